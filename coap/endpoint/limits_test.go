package endpoint

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/uring"
)

// TestMulticastPendingBounded: a flood of requests on a multicast endpoint
// leaves at most MaxPendingMulticast responses waiting for their leisure,
// in one queue behind one timer (the Clock holds no timer per response, so
// the real clock starts no goroutine per response); the rest are dropped
// and counted. The waiting ones go out at their random times, in order.
func TestMulticastPendingBounded(t *testing.T) {
	if p, _ := (Config{}).withDefaults(); p.MaxPendingMulticast != DefaultMaxPendingMulticast {
		t.Fatalf("default MaxPendingMulticast = %d", p.MaxPendingMulticast)
	}
	clk := newFakeClock()
	mc := newMemConn()
	rc := &recordConn{BatchConn: mc, clock: clk}
	mux, _ := newTestMux()
	const bound, flood = 16, 1000
	e, err := New(rc, Config{Handler: mux, Clock: clk, Multicast: true, Leisure: time.Second, MaxPendingMulticast: bound})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w := newWorker(e)
	timers := clk.Pending() // housekeeping and the separate-response watchdog
	start := clk.Now()
	var m coap.Message
	m.Type, m.Code = coap.NonConfirmable, coap.GET
	m.SetPath("/hello")
	for i := range flood {
		m.MessageID = coap.MessageID(i)
		m.Token = coap.TokenFromUint64(uint64(i) + 1)
		in, _ := m.AppendBinary(nil)
		w.handle(in, netip.AddrPortFrom(testPeer.Addr(), uint16(1000+i)))
		if got := clk.Pending(); got > timers+1 {
			t.Fatalf("after %d requests the clock holds %d timers; want at most %d (one for all responses)", i+1, got, timers+1)
		}
	}
	st := e.Stats()
	if st.Requests != flood || st.MulticastPending != bound || st.MulticastDropped != flood-bound || len(rc.Sent()) != 0 {
		t.Fatalf("stats %+v, %d sent", st, len(rc.Sent()))
	}
	clk.Advance(time.Second)
	sent := rc.Sent()
	if len(sent) != bound {
		t.Fatalf("%d responses sent after the leisure; want %d", len(sent), bound)
	}
	times := map[time.Time]bool{}
	for i, s := range sent {
		if d := s.at.Sub(start); d < 0 || d > time.Second {
			t.Fatalf("response %d sent at +%v, outside the leisure", i, d)
		}
		if i > 0 && s.at.Before(sent[i-1].at) {
			t.Fatalf("response %d sent before response %d", i, i-1)
		}
		times[s.at] = true
		if r := decode(t, s.data); r.Type != coap.NonConfirmable || string(r.Payload) != "world" {
			t.Fatalf("response %+v", r)
		}
	}
	if len(times) < 2 {
		t.Fatal("responses not spread over the leisure")
	}
	if st := e.Stats(); st.MulticastPending != 0 || clk.Pending() != timers {
		t.Fatalf("after sending: stats %+v, %d timers (want %d)", st, clk.Pending(), timers)
	}
	// Room again: the next request's response waits as before.
	m.MessageID, m.Token = 60000, coap.TokenFromUint64(99999)
	in, _ := m.AppendBinary(nil)
	w.handle(in, testPeer)
	if st := e.Stats(); st.MulticastPending != 1 || st.MulticastDropped != flood-bound {
		t.Fatalf("stats %+v", st)
	}
}

// TestMulticastPendingRealClock: the same bound on the real clock over UDP;
// the responses that waited arrive.
func TestMulticastPendingRealClock(t *testing.T) {
	mux, _ := newTestMux()
	srv := startEndpoint(t, Config{Handler: mux, Multicast: true, Leisure: 200 * time.Millisecond, MaxPendingMulticast: 4})
	cli := listenUDP(t)
	defer cli.Close()
	var m coap.Message
	m.Type, m.Code = coap.NonConfirmable, coap.GET
	m.SetPath("/hello")
	const n = 50
	for i := range n {
		m.MessageID = coap.MessageID(i)
		m.Token = coap.TokenFromUint64(uint64(i) + 1)
		b, _ := m.AppendBinary(nil)
		if _, err := cli.WriteTo(b, net.UDPAddrFromAddrPort(addrOf(srv))); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	buf := make([]byte, 2048)
	for {
		cli.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := cli.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	st := srv.Stats()
	if got == 0 || got > 4 || st.MulticastDropped+uint64(got) != st.Requests || st.MulticastPending != 0 {
		t.Fatalf("%d responses; stats %+v", got, st)
	}
}

// TestReassemblyLimitsConcurrent: uploads started at once by many workers
// on different shards never take more than MaxReassemblies slots or
// MaxReassemblyBytes bytes together.
func TestReassemblyLimitsConcurrent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		slots int
	}{
		{"MaxReassemblies", Config{MaxReassemblies: 3}, 3},
		{"MaxReassemblyBytes", Config{MaxReassemblyBytes: 3 * 16}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := memServer(t, tc.cfg)
			const goroutines, rounds = 64, 1000
			payload := make([]byte, 16)
			for round := range rounds {
				var ok atomic.Int32
				var wg sync.WaitGroup
				gate := make(chan struct{})
				for g := range goroutines {
					wg.Add(1)
					go func() {
						defer wg.Done()
						k := bodyKey{testPeer, uint64(g)} // shard g
						<-gate
						if _, code := e.reasmAdd(k, coap.Block{Num: 0, More: true, SZX: 0}, payload); code == 0 {
							ok.Add(1)
						}
					}()
				}
				close(gate)
				wg.Wait()
				if n := int(ok.Load()); n != tc.slots {
					t.Fatalf("round %d: %d uploads admitted; want exactly %d (count %d, bytes %d)",
						round, n, tc.slots, e.reasm.count.Load(), e.reasm.bytes.Load())
				}
				e.reasm.expire(e.now()+time.Hour, time.Nanosecond, e)
				if c, b := e.reasm.count.Load(), e.reasm.bytes.Load(); c != 0 || b != 0 {
					t.Fatalf("after expiry: count %d, bytes %d", c, b)
				}
			}
		})
	}
}

// TestNoRetransmit: MaxRetransmit 0 is the RFC default (4), and a negative
// value sends a CON once and fails it after the first timeout.
func TestNoRetransmit(t *testing.T) {
	if p, _ := (Config{}).withDefaults(); p.MaxRetransmit != DefaultMaxRetransmit {
		t.Fatalf("zero MaxRetransmit = %d", p.MaxRetransmit)
	}
	clk := newFakeClock()
	silent := listenUDP(t)
	defer silent.Close()
	rc := &recordConn{BatchConn: uring.WrapPacketConn(listenUDP(t)), clock: clk}
	e, err := New(rc, Config{Clock: clk, MaxRetransmit: NoRetransmit, Rand: newSeed(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := e.Get(context.Background(), netip.MustParseAddrPort(silent.LocalAddr().String()), "/x")
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(rc.Sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	clk.Advance(time.Duration(float64(DefaultACKTimeout) * DefaultACKRandomFactor))
	select {
	case err := <-errc:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v; want ErrTimeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout after the first ACK timeout")
	}
	clk.Advance(time.Minute)
	if n := len(rc.Sent()); n != 1 {
		t.Fatalf("%d transmissions; want 1", n)
	}
	if st := e.Stats(); st.Retransmissions != 0 || st.Timeouts != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// blockingConn is a memConn whose writes block while hold is set, until
// release is closed.
type blockingConn struct {
	*memConn
	hold     atomic.Bool
	entered  chan struct{}
	release  chan struct{}
	returned atomic.Bool // a held write has returned
}

func (c *blockingConn) WriteBatch(ms []uring.Msg) (int, error) {
	if c.hold.Load() {
		close(c.entered)
		<-c.release
		time.Sleep(20 * time.Millisecond) // still endpoint code, still running
		c.returned.Store(true)
		c.hold.Store(false)
	}
	return c.memConn.WriteBatch(ms)
}

// TestCloseWaitsForCallbacks: Close waits for a Clock callback already
// running (here a retransmission blocked in the socket write) and returns
// only after it, leaving no goroutine behind.
func TestCloseWaitsForCallbacks(t *testing.T) {
	before := runtime.NumGoroutine()
	clk := newFakeClock()
	c := &blockingConn{memConn: newMemConn(), entered: make(chan struct{}), release: make(chan struct{})}
	e, err := New(c, Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := e.Get(context.Background(), testPeer, "/x")
		errc <- err
	}()
	for _, n := c.Last(); n == 0; _, n = c.Last() {
		time.Sleep(time.Millisecond)
	}
	c.hold.Store(true)
	advanced := make(chan struct{})
	go func() {
		defer close(advanced)
		clk.Advance(3 * time.Second) // the first retransmission
	}()
	<-c.entered
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.Close()
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a retransmission callback was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(c.release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the callback ended")
	}
	if !c.returned.Load() {
		t.Fatal("Close returned before the callback's write did")
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("request: %v", err)
	}
	<-advanced
	// Timers that fire after Close run no endpoint code.
	_, sent := c.Last()
	clk.Advance(time.Hour)
	if _, n := c.Last(); n != sent {
		t.Fatalf("%d datagrams sent after Close", n-sent)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
