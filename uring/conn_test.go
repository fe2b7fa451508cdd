package uring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/uring"
)

var backends = []uring.Backend{uring.BackendIOURing, uring.BackendMmsg, uring.BackendStd}

var loopbacks = []struct{ network, addr string }{
	{"udp4", "127.0.0.1:0"},
	{"udp6", "[::1]:0"},
}

// listen opens a Conn with backend b on a loopback address, skipping when
// the backend or IPv6 is unavailable here.
func listen(t testing.TB, network, addr string, cfg uring.Config) *uring.Conn {
	t.Helper()
	c, err := uring.ListenUDP(network, addr, cfg)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		if network == "udp6" {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		t.Fatal(err)
	}
	if cfg.Backend != uring.BackendAuto && c.Backend() != cfg.Backend {
		t.Fatalf("Backend() = %v; want %v", c.Backend(), cfg.Backend)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrPort(t testing.TB, c uring.BatchConn) netip.AddrPort {
	t.Helper()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func msgs(n, size int) []uring.Msg {
	ms := make([]uring.Msg, n)
	for i := range ms {
		ms[i].Buf = make([]byte, size)
	}
	return ms
}

// readN reads until want datagrams arrived or the deadline passed.
func readN(t testing.TB, c uring.BatchConn, want int, size int) []uring.Msg {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []uring.Msg
	ms := msgs(32, size)
	for len(got) < want {
		n, err := c.ReadBatch(ms)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d: %v", len(got), want, err)
		}
		if n < 1 || n > len(ms) {
			t.Fatalf("ReadBatch = %d", n)
		}
		for _, m := range ms[:n] {
			m.Buf = append([]byte(nil), m.Buf[:m.N]...)
			got = append(got, m)
		}
	}
	return got
}

func TestBatchLoopback(t *testing.T) {
	for _, b := range backends {
		for _, lb := range loopbacks {
			t.Run(b.String()+"/"+lb.network, func(t *testing.T) {
				rx := listen(t, lb.network, lb.addr, uring.Config{Backend: b})
				tx := listen(t, lb.network, lb.addr, uring.Config{Backend: b})
				const count = 200
				out := make([]uring.Msg, count)
				for i := range out {
					out[i] = uring.Msg{Buf: []byte(fmt.Sprintf("datagram %03d %s", i, bytes.Repeat([]byte{'x'}, i))), Addr: addrPort(t, rx)}
				}
				// In batches of 50, each read back before the next, so the
				// default socket buffer never overflows.
				var got []uring.Msg
				for i := 0; i < count; i += 50 {
					n, err := tx.WriteBatch(out[i : i+50])
					if err != nil || n != 50 {
						t.Fatalf("WriteBatch = %d, %v", n, err)
					}
					got = append(got, readN(t, rx, 50, 512)...)
				}
				for i, m := range out {
					if m.N != len(m.Buf) {
						t.Fatalf("out[%d].N = %d; want %d", i, m.N, len(m.Buf))
					}
				}
				if len(got) != count {
					t.Fatalf("received %d datagrams; want %d", len(got), count)
				}
				from := addrPort(t, tx)
				for i, m := range got {
					if !bytes.Equal(m.Buf, out[i].Buf) {
						t.Fatalf("datagram %d = %q; want %q", i, m.Buf, out[i].Buf)
					}
					if m.Addr != from {
						t.Fatalf("datagram %d from %v; want %v", i, m.Addr, from)
					}
					if m.Flags != 0 {
						t.Fatalf("datagram %d flags %#x", i, m.Flags)
					}
				}
			})
		}
	}
}

func TestTruncation(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			if !msgTruncSupported {
				t.Skip("this platform reports truncation as an error")
			}
			rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b, BufferSize: 64})
			tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			payload := bytes.Repeat([]byte("0123456789"), 10) // 100 bytes
			ms := []uring.Msg{
				{Buf: payload, Addr: addrPort(t, rx)},
				{Buf: payload[:20], Addr: addrPort(t, rx)},
			}
			if n, err := tx.WriteBatch(ms); n != 2 || err != nil {
				t.Fatalf("WriteBatch = %d, %v", n, err)
			}
			// Buffers of 10 bytes: both cut at 10 (and at 64 by io_uring's own
			// buffers first for the long one).
			got := readN(t, rx, 2, 10)
			for i, m := range got {
				if m.N != 10 || !bytes.Equal(m.Buf, payload[:10]) || m.Flags&uring.FlagTrunc == 0 {
					t.Errorf("datagram %d: N=%d %q flags=%#x; want 10 bytes, FlagTrunc", i, m.N, m.Buf, m.Flags)
				}
			}
			// A roomy Buf: the long one is cut only by the io_uring backend's
			// 64-byte provided buffers.
			if n, err := tx.WriteBatch(ms); n != 2 || err != nil {
				t.Fatalf("WriteBatch = %d, %v", n, err)
			}
			got = readN(t, rx, 2, 200)
			wantN := 100
			if b == uring.BackendIOURing {
				wantN = 64
			}
			if m := got[0]; m.N != wantN || !bytes.Equal(m.Buf, payload[:wantN]) || (m.Flags&uring.FlagTrunc != 0) != (wantN < 100) {
				t.Errorf("long datagram: N=%d flags=%#x; want N=%d truncated=%v", m.N, m.Flags, wantN, wantN < 100)
			}
			if m := got[1]; m.N != 20 || m.Flags != 0 {
				t.Errorf("short datagram: N=%d flags=%#x; want 20, 0", m.N, m.Flags)
			}
			wantTrunc := uint64(3)
			if b != uring.BackendIOURing {
				wantTrunc = 2
			}
			if st := rx.Stats(); st.Received != 4 || st.Truncated != wantTrunc {
				t.Errorf("stats %+v; want 4 received, %d truncated", st, wantTrunc)
			}
		})
	}
}

func TestReadDeadline(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			ms := msgs(4, 64)
			start := time.Now()
			if err := rx.SetReadDeadline(start.Add(50 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			n, err := rx.ReadBatch(ms)
			if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("ReadBatch = %d, %v; want deadline exceeded", n, err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("error %v is not a net.Error timeout", err)
			}
			if d := time.Since(start); d < 40*time.Millisecond || d > 3*time.Second {
				t.Fatalf("deadline fired after %v; want about 50ms", d)
			}
			// Clearing the deadline makes the conn usable again.
			tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			if _, err := tx.WriteBatch([]uring.Msg{{Buf: []byte("late"), Addr: addrPort(t, rx)}}); err != nil {
				t.Fatal(err)
			}
			got := readN(t, rx, 1, 64)
			if string(got[0].Buf) != "late" {
				t.Fatalf("got %q", got[0].Buf)
			}
		})
	}
}

func TestCloseUnblocksReader(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			done := make(chan error, 1)
			go func() {
				_, err := rx.ReadBatch(msgs(4, 64))
				done <- err
			}()
			time.Sleep(50 * time.Millisecond) // let the reader park
			if err := rx.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			timer := time.NewTimer(5 * time.Second)
			defer timer.Stop()
			select {
			case err := <-done:
				if !errors.Is(err, net.ErrClosed) {
					t.Fatalf("ReadBatch after Close: %v; want net.ErrClosed", err)
				}
			case <-timer.C:
				t.Fatal("Close did not unblock ReadBatch")
			}
			if _, err := rx.ReadBatch(msgs(1, 8)); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("ReadBatch on closed conn: %v", err)
			}
			if _, err := rx.WriteBatch([]uring.Msg{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("127.0.0.1:9")}}); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("WriteBatch on closed conn: %v", err)
			}
			if err := rx.Close(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestFallbackSelection(t *testing.T) {
	seccomp := func(refuse ...uring.Backend) func(uring.Backend) error {
		return func(b uring.Backend) error {
			for _, r := range refuse {
				if b == r {
					return fmt.Errorf("simulated seccomp: %w", syscall.EPERM)
				}
			}
			return nil
		}
	}
	auto, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer auto.Close()
	t.Logf("auto: %v", auto.Report())
	if auto.Backend() == uring.BackendAuto {
		t.Fatal("Backend() = auto")
	}

	c := listen(t, "udp4", "127.0.0.1:0", uring.Config{Refuse: seccomp(uring.BackendIOURing)})
	rep := c.Report()
	if len(rep.Refused) == 0 || rep.Refused[0].Backend != uring.BackendIOURing ||
		!errors.Is(rep.Refused[0], syscall.EPERM) || !errors.Is(rep.Refused[0], errors.ErrUnsupported) {
		t.Fatalf("report %v: want io_uring refused with EPERM", rep)
	}
	if c.Backend() == uring.BackendIOURing {
		t.Fatalf("io_uring chosen although refused: %v", rep)
	}

	c = listen(t, "udp4", "127.0.0.1:0", uring.Config{Refuse: seccomp(uring.BackendIOURing, uring.BackendMmsg)})
	if rep := c.Report(); c.Backend() != uring.BackendStd || len(rep.Refused) != 2 || rep.Refused[1].Backend != uring.BackendMmsg {
		t.Fatalf("report %v: want std after two refusals", rep)
	}
	// The std backend still works.
	tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendStd})
	if _, err := tx.WriteBatch([]uring.Msg{{Buf: []byte("fallback"), Addr: addrPort(t, c)}}); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, c, 1, 64); string(got[0].Buf) != "fallback" {
		t.Fatalf("got %q", got[0].Buf)
	}

	// Refusing everything fails rather than returning a dead Conn.
	_, err = uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{Refuse: seccomp(backends...)})
	if !errors.As(err, new(uring.RefusedError)) {
		t.Fatalf("all backends refused: err = %v; want RefusedError", err)
	}

	// A forced backend is never replaced.
	_, err = uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendIOURing, Refuse: seccomp(uring.BackendIOURing)})
	var re uring.RefusedError
	if !errors.As(err, &re) || re.Backend != uring.BackendIOURing || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("forced refused backend: err = %v; want RefusedError(EPERM)", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []uring.Config{
		{BatchSize: -1}, {BatchSize: uring.MaxBatchSize + 1},
		{RingBuffers: 3}, {RingBuffers: uring.MaxBufRingSize * 2},
		{BufferSize: -5}, {BufferSize: uring.MaxDatagramSize + 1},
		{Backend: uring.BackendStd + 1}, {ReadBuffer: -1},
		{RingBuffers: uring.MaxBufRingSize, BufferSize: uring.MaxDatagramSize},
	} {
		if c, err := uring.ListenUDP("udp4", "127.0.0.1:0", cfg); !errors.Is(err, uring.ErrBadConfig) {
			if c != nil {
				c.Close()
			}
			t.Errorf("%+v: err = %v; want ErrBadConfig", cfg, err)
		}
	}
	if _, err := uring.ListenUDP("tcp", "127.0.0.1:0", uring.Config{}); err == nil {
		t.Error("ListenUDP(tcp) succeeded")
	}
}

func TestWriteBadAddress(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			c := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			ms := []uring.Msg{
				{Buf: []byte("ok"), Addr: addrPort(t, rx)},
				{Buf: []byte("v6 from v4 socket"), Addr: netip.MustParseAddrPort("[::1]:9")},
			}
			n, err := c.WriteBatch(ms)
			if n != 1 || err == nil {
				t.Fatalf("WriteBatch = %d, %v; want 1 and an error", n, err)
			}
			if got := readN(t, rx, 1, 16); string(got[0].Buf) != "ok" {
				t.Fatalf("got %q", got[0].Buf)
			}
		})
	}
}

func TestBackendString(t *testing.T) {
	for b, want := range map[uring.Backend]string{
		uring.BackendAuto: "auto", uring.BackendIOURing: "io_uring", uring.BackendMmsg: "mmsg",
		uring.BackendStd: "std", 9: "backend(9)",
	} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", b, got, want)
		}
	}
	r := uring.Report{Backend: uring.BackendStd, Refused: []uring.RefusedError{
		{Backend: uring.BackendIOURing, Err: syscall.EPERM}, {Backend: uring.BackendMmsg, Err: syscall.ENOSYS}}}
	if got, want := r.String(), "std (io_uring refused: "+syscall.EPERM.Error()+"; mmsg refused: "+syscall.ENOSYS.Error()+")"; got != want {
		t.Errorf("Report.String() = %q; want %q", got, want)
	}
}

func TestLoggerReportsBackend(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := listen(t, "udp4", "127.0.0.1:0", uring.Config{Logger: log, Refuse: func(b uring.Backend) error {
		if b == uring.BackendIOURing {
			return context.Canceled // any error will do
		}
		return nil
	}})
	line := buf.String()
	if !strings.Contains(line, "backend selected") || !strings.Contains(line, "backend="+c.Backend().String()) ||
		!strings.Contains(line, "io_uring refused") {
		t.Fatalf("log line %q", line)
	}
}

// TestConcurrentReadWrite has one goroutine write to the conn's own address
// while another reads, with at most 64 datagrams in flight (so none is
// dropped), for the race detector and the one-reader-one-writer contract.
func TestConcurrentReadWrite(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			c := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			const total, window = 2000, 64
			credit := make(chan struct{}, window)
			for i := 0; i < window; i++ {
				credit <- struct{}{}
			}
			errc := make(chan error, 1)
			go func() {
				out := []uring.Msg{{Buf: make([]byte, 8), Addr: addrPort(t, c)}}
				for i := 0; i < total; i++ {
					<-credit
					out[0].Buf[0] = byte(i)
					if _, err := c.WriteBatch(out); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			ms := msgs(16, 64)
			for got := 0; got < total; {
				n, err := c.ReadBatch(ms)
				if err != nil {
					t.Fatalf("after %d: %v", got, err)
				}
				for i := 0; i < n; i++ {
					if ms[i].Buf[0] != byte(got+i) {
						t.Fatalf("datagram %d carries %d", got+i, ms[i].Buf[0])
					}
					credit <- struct{}{}
				}
				got += n
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); st.Sent != total || st.Received != total {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
