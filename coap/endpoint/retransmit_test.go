package endpoint

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

type seedReader struct{ r *rand.ChaCha8 }

func (s seedReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeed(n byte) seedReader {
	var seed [32]byte
	seed[0] = n
	return seedReader{rand.NewChaCha8(seed)}
}

// TestRetransmissionSchedule: a silent peer sees the CON at t0 and then
// MAX_RETRANSMIT retransmissions at randomised, doubling intervals (RFC
// 7252 §4.2); the request fails after the last timeout. Runs on a fake
// clock.
func TestRetransmissionSchedule(t *testing.T) {
	firsts := map[time.Duration]bool{}
	for seed := byte(1); seed <= 5; seed++ {
		clk := newFakeClock()
		silent := listenUDP(t)
		defer silent.Close()
		rc := &recordConn{BatchConn: uring.WrapPacketConn(listenUDP(t)), clock: clk}
		e, err := New(rc, Config{Clock: clk, Rand: newSeed(seed)})
		if err != nil {
			t.Fatal(err)
		}
		peer := netip.MustParseAddrPort(silent.LocalAddr().String())
		errc := make(chan error, 1)
		go func() {
			_, err := e.Get(context.Background(), peer, "/x")
			errc <- err
		}()
		// Wait for the first send, then step the clock through every timer.
		deadline := time.Now().Add(5 * time.Second)
		for len(rc.Sent()) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < 10*1000 && len(errc) == 0; i++ {
			clk.Advance(100 * time.Millisecond)
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		err = <-errc
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("seed %d: err = %v; want ErrTimeout", seed, err)
		}
		s := rc.Sent()
		if len(s) != 1+DefaultMaxRetransmit {
			t.Fatalf("seed %d: %d sends; want %d", seed, len(s), 1+DefaultMaxRetransmit)
		}
		first := s[1].at.Sub(s[0].at)
		if first < DefaultACKTimeout || first > time.Duration(float64(DefaultACKTimeout)*DefaultACKRandomFactor) {
			t.Fatalf("seed %d: first timeout %v outside [2s, 3s]", seed, first)
		}
		firsts[first] = true
		for i := 2; i < len(s); i++ {
			got := s[i].at.Sub(s[i-1].at)
			if want := first << (i - 1); got != want {
				t.Fatalf("seed %d: interval %d = %v; want %v (doubling)", seed, i, got, want)
			}
			if !bytes.Equal(s[i].data, s[0].data) {
				t.Fatalf("seed %d: retransmission %d differs", seed, i)
			}
		}
		t.Logf("seed %d: sends at +0 %v %v %v %v", seed, s[1].at.Sub(s[0].at), s[2].at.Sub(s[0].at), s[3].at.Sub(s[0].at), s[4].at.Sub(s[0].at))
		if st := e.Stats(); st.Retransmissions != DefaultMaxRetransmit || st.Timeouts != 1 {
			t.Fatalf("stats %+v", st)
		}
		e.Close()
	}
	if len(firsts) < 2 {
		t.Fatalf("initial timeouts not randomised: %v", firsts)
	}
}

// TestRetransmissionRealTime runs the schedule on the real clock with a
// 50 ms ACK_TIMEOUT against a silent UDP socket that timestamps arrivals.
func TestRetransmissionRealTime(t *testing.T) {
	silent := listenUDP(t)
	defer silent.Close()
	e := startEndpoint(t, Config{ACKTimeout: 50 * time.Millisecond, MaxRetransmit: 3})
	peer := netip.MustParseAddrPort(silent.LocalAddr().String())
	arrivals := make(chan time.Time, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			silent.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, _, err := silent.ReadFrom(buf); err != nil {
				close(arrivals)
				return
			}
			arrivals <- time.Now()
		}
	}()
	start := time.Now()
	_, err := e.Get(testCtx(t), peer, "/x")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	elapsed := time.Since(start)
	var at []time.Time
	for a := range arrivals {
		at = append(at, a)
		if len(at) == 4 {
			break
		}
	}
	if len(at) != 4 {
		t.Fatalf("%d datagrams; want 4", len(at))
	}
	// Expected waits w, 2w, 4w and a final 8w with w in [50, 75] ms: 15w
	// in [750, 1125] ms. Scheduling delays on a loaded machine only add.
	if elapsed < 740*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("timed out after %v; want about 15 x [50,75] ms", elapsed)
	}
	d1, d3 := at[1].Sub(at[0]), at[3].Sub(at[2])
	if d1 < 50*time.Millisecond || d3 < 200*time.Millisecond || d3 < 2*d1 {
		t.Fatalf("intervals %v, %v, %v: want w >= 50 ms, then 2w, 4w", d1, at[2].Sub(at[1]), d3)
	}
}

// TestSeparateAndCancel: ctx cancels a request; the client stops retransmitting on
// an empty ACK and waits for the separate CON response, which it ACKs.
func TestSeparateAndCancel(t *testing.T) {
	mux, _ := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux})
	cli := startEndpoint(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	silent := listenUDP(t)
	defer silent.Close()
	_, err := cli.Get(ctx, netip.MustParseAddrPort(silent.LocalAddr().String()), "/x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancel: %v", err)
	}
	r, err := cli.Get(testCtx(t), addrOf(srv), "/slow")
	if err != nil || string(r.Body) != "late" {
		t.Fatal(err)
	}
	if cli.Stats().Retransmissions != 0 {
		t.Fatal("client retransmitted after the empty ACK")
	}
}
