package dtls

import (
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// memConn is an in-memory BatchConn: ReadBatch returns the datagrams given
// to deliver, WriteBatch counts and discards.
type memConn struct {
	in      chan uring.Msg
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	written int
}

func newMemConn() *memConn {
	return &memConn{in: make(chan uring.Msg, 64), done: make(chan struct{})}
}

func (c *memConn) deliver(b []byte, from netip.AddrPort) {
	select {
	case c.in <- uring.Msg{Buf: b, Addr: from}:
	case <-c.done:
	}
}

func (c *memConn) ReadBatch(ms []uring.Msg) (int, error) {
	select {
	case m := <-c.in:
		ms[0].N = copy(ms[0].Buf, m.Buf)
		ms[0].Addr, ms[0].Flags = m.Addr, 0
		if ms[0].N < len(m.Buf) {
			ms[0].Flags = uring.FlagTrunc
		}
		return 1, nil
	case <-c.done:
		return 0, net.ErrClosed
	}
}

func (c *memConn) WriteBatch(ms []uring.Msg) (int, error) {
	c.mu.Lock()
	c.written += len(ms)
	c.mu.Unlock()
	for i := range ms {
		ms[i].N = len(ms[i].Buf)
	}
	return len(ms), nil
}

func (c *memConn) LocalAddr() net.Addr             { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5684} }
func (c *memConn) SetReadDeadline(time.Time) error { return nil }
func (c *memConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// FuzzServerReceive feeds arbitrary datagrams from a few addresses to a
// Server: it must not panic, must respect MaxSessions, and must stop every
// goroutine on Close.
func FuzzServerReceive(f *testing.F) {
	hello := captureClientHello(f)
	f.Add(append([]byte{0}, hello...))
	f.Add(append(append([]byte{1}, hello...), append([]byte{0xff, 1}, hello[:20]...)...))
	f.Add([]byte{2, 25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 0, 1, 0})
	f.Add([]byte{3, 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		mc := newMemConn()
		cfg := pskServerConfig()
		cfg.MaxSessions = 2
		cfg.MaxHandshakes = 2
		cfg.ConnectionIDLength = 6
		cfg.HandshakeTimeout = 200 * time.Millisecond
		s, err := NewServer(mc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// data: an address selector byte, then the datagram up to a 0xff
		// 0x01 separator, repeated.
		for len(data) > 0 {
			from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 40000+uint16(data[0]%4))
			data = data[1:]
			end := len(data)
			for i := 0; i+1 < len(data); i++ {
				if data[i] == 0xff && data[i+1] == 1 {
					end = i
					break
				}
			}
			mc.deliver(append([]byte(nil), data[:end]...), from)
			if end+2 <= len(data) {
				data = data[end+2:]
			} else {
				data = nil
			}
		}
		deadline := time.Now().Add(time.Second)
		for len(mc.in) > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if st := s.Stats(); st.Sessions+st.Handshaking > 2 {
			t.Fatalf("stats %+v beyond MaxSessions", st)
		}
		done := make(chan struct{})
		go func() { s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("Close hung; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
}
