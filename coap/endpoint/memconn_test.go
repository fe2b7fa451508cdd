package endpoint

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// memConn is an in-memory BatchConn: reads block until Close; writes are
// kept (the last one, or all when keep is set).
type memConn struct {
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
	last   []byte
	lastTo netip.AddrPort
	n      int
	keep   bool
	all    [][]byte
	allTo  []netip.AddrPort
}

func newMemConn() *memConn { return &memConn{closed: make(chan struct{})} }

func (c *memConn) ReadBatch(ms []uring.Msg) (int, error) {
	<-c.closed
	return 0, net.ErrClosed
}

func (c *memConn) WriteBatch(ms []uring.Msg) (int, error) {
	c.mu.Lock()
	for _, m := range ms {
		c.last = append(c.last[:0], m.Buf...)
		c.lastTo = m.Addr
		c.n++
		if c.keep {
			c.all = append(c.all, append([]byte(nil), m.Buf...))
			c.allTo = append(c.allTo, m.Addr)
		}
	}
	c.mu.Unlock()
	return len(ms), nil
}

func (c *memConn) Last() ([]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.last...), c.n
}

func (c *memConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5683} }
func (c *memConn) SetReadDeadline(time.Time) error {
	return os.ErrDeadlineExceeded
}
func (c *memConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }
