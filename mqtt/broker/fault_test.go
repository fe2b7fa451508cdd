package broker

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// TestSlowSubscriber: a subscriber that never reads beside fast ones. The
// fast ones get everything, the slow one's queue stays within its bounds
// and the drops are counted.
func TestSlowSubscriber(t *testing.T) {
	b := newBroker(t, Config{MaxQueuedMessages: 100, MaxQueuedBytes: 64 << 10, PublishRate: -1})
	slow := pipeClient(t, b, v5("slow"))
	slow.sub("load", 0)
	const fast, n = 3, 3000
	var fs []*tclient
	for i := range fast {
		c := pipeClient(t, b, v5("fast"+string(rune('0'+i))))
		c.sub("load", 0)
		fs = append(fs, c)
	}
	pub := pipeClient(t, b, v5("pub"))
	var wg sync.WaitGroup
	got := make([]atomic.Int64, fast)
	for i, c := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got[i].Load() < n {
				if _, err := c.readTimeout(10 * time.Second); err != nil {
					return
				}
				got[i].Add(1)
			}
		}()
	}
	payload := string(make([]byte, 1000))
	start := time.Now()
	for i := range n {
		// Keep the fast subscribers within their queue bound (the bound
		// applies to everyone); the slow one never reads at all.
		for j := range got {
			for int64(i)-got[j].Load() > 40 {
				time.Sleep(50 * time.Microsecond)
			}
		}
		pub.pub("load", payload, 0, false, 0)
	}
	wg.Wait()
	for i := range got {
		if g := got[i].Load(); g != n {
			t.Fatalf("fast subscriber %d got %d of %d", i, g, n)
		}
	}
	cs, _ := b.ClientStats("slow")
	if cs.Queued > 100 || cs.QueuedBytes > 64<<10 || cs.DroppedQoS0 == 0 {
		t.Fatalf("slow subscriber: %+v", cs)
	}
	t.Logf("%d messages to %d fast subscribers in %v; slow: %+v", n, fast, time.Since(start), cs)
}

// TestDropPolicy: a full queue drops the oldest QoS 0 message first, then
// the oldest message.
func TestDropPolicy(t *testing.T) {
	b := newBroker(t, Config{MaxQueuedMessages: 3})
	s := &session{b: b, id: "x", conn: &conn{dead: true}}
	msg := func(q uint8, p string) *message {
		return newMessage(&mqtt.Publish{Topic: []byte("t"), Payload: []byte(p), QoS: q, ID: mqtt.PacketID(q)}, nil, time.Now())
	}
	s.deliverIDs(msg(1, "a"), 2, false, nil)
	s.deliverIDs(msg(0, "b"), 2, false, nil)
	s.deliverIDs(msg(1, "c"), 2, false, nil)
	s.deliverIDs(msg(1, "d"), 2, false, nil) // drops b (QoS 0)
	s.deliverIDs(msg(0, "e"), 2, false, nil) // no QoS 0 queued: e itself is dropped
	s.deliverIDs(msg(2, "f"), 2, false, nil) // drops a (oldest)
	var got string
	for s.qlen() > 0 {
		got += string(s.popFront().m.payload)
	}
	if got != "cdf" || s.dropsQoS0 != 2 || s.dropsOldest != 1 {
		t.Fatalf("queue %q, drops %d/%d", got, s.dropsQoS0, s.dropsOldest)
	}
}

// TestMalformedFlood: random bytes on many connections, before and after
// CONNECT, never crash the broker, which keeps serving good clients.
func TestMalformedFlood(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		name := "pipe"
		if tcp {
			name = "tcp" // through the event loop on Linux
		}
		t.Run(name, func(t *testing.T) { testMalformedFlood(t, tcp) })
	}
}

func testMalformedFlood(t *testing.T, tcp bool) {
	b := newBroker(t, Config{ConnectTimeout: time.Second})
	dial := b.Pipe
	if tcp {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go b.Serve(ln)
		dial = func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for i := range 300 {
		junk := make([]byte, 1+rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		var prefix []byte
		if i%2 == 1 { // a valid CONNECT first, then garbage
			cp := v5("junk" + string(rune('a'+i%26)))
			prefix, _ = cp.AppendBinary(nil)
			junk[0] = byte(rng.IntN(15)+1) << 4
		}
		nc, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(2)
		go func() { // drain whatever the broker answers
			defer wg.Done()
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			var buf [512]byte
			for {
				if _, err := nc.Read(buf[:]); err != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			nc.Write(append(prefix, junk...))
			time.Sleep(10 * time.Millisecond)
			nc.Close()
		}()
	}
	wg.Wait()
	eventually(t, "connections to end", func() bool { return b.Stats().Connections == 0 })
	good := pipeClient(t, b, v5("good"))
	good.sub("ok", 1)
	good.pubAcked("ok", "fine", 1, false, 1)
	if p := good.recv(); string(p.Payload) != "fine" {
		t.Fatal(p)
	}
	if st := b.Stats(); st.PacketErrors == 0 {
		t.Fatalf("no packet errors counted: %+v", st)
	}
}

// TestHalfOpen: a TCP client that goes silent without closing is
// disconnected after 1.5 times its keep-alive.
func TestHalfOpen(t *testing.T) {
	for _, mode := range []EventLoopMode{EventLoopAuto, EventLoopOff} {
		t.Run("evloop"+itoa(int(mode)), func(t *testing.T) { testHalfOpen(t, mode) })
	}
}

func testHalfOpen(t *testing.T, mode EventLoopMode) {
	b := newBroker(t, Config{EventLoop: mode})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	cp := v311("halfopen")
	cp.KeepAlive = 1
	c := tcpClient(t, ln.Addr().String(), cp)
	_ = c
	start := time.Now()
	eventually(t, "keep-alive disconnect", func() bool { return b.Stats().Connections == 0 })
	if d := time.Since(start); d < time.Second {
		t.Fatalf("disconnected after %v", d)
	}
}

// TestConnectionBurst opens 10,000 TCP connections at once, from a child
// process (both ends in one process would need 20,000 descriptors, the
// hard limit here).
func TestConnectionBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 10000
	raiseNoFile(t, n+200)
	b := newBroker(t, Config{MaxConnections: n + 10, MaxSessions: n + 10})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	child := startHelper(t, "burst", ln.Addr().String(), itoa(n))
	line := child.readLine(t, 60*time.Second)
	if line != "ok "+itoa(n) {
		t.Fatalf("child: %q", line)
	}
	if c := b.Stats().Connections; c != n {
		t.Fatalf("connections %d, want %d", c, n)
	}
	child.stop()
	eventually(t, "all closed", func() bool { return b.Stats().Connections == 0 })
}

// burstClient is the child side of TestConnectionBurst: it opens n
// connections to addr, completes CONNECT/CONNACK on each, prints "ok n" and
// waits for stdin to close.
func burstClient(addr string, n int) {
	raiseNoFileMax()
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	const workers = 64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			for i := w; i < n; i += workers {
				nc, err := net.DialTimeout("tcp", addr, 20*time.Second)
				if err != nil {
					fail(err)
					return
				}
				conns[i] = nc
				cp := v311("burst" + itoa(i))
				raw, _ := cp.AppendBinary(nil)
				nc.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := nc.Write(raw); err != nil {
					fail(err)
					return
				}
				var ack [4]byte
				if _, err := io.ReadFull(nc, ack[:]); err != nil || ack[0] != 0x20 || ack[3] != 0 {
					fail(errors.New("bad CONNACK"))
					return
				}
				nc.SetDeadline(time.Time{})
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		os.Stdout.WriteString("error " + firstErr.Error() + "\n")
	} else {
		os.Stdout.WriteString("ok " + itoa(n) + "\n")
	}
	io.Copy(io.Discard, os.Stdin)
	for _, nc := range conns {
		if nc != nil {
			nc.Close()
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
