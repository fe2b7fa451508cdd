package endpoint

import (
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// fakeClock is a manual Clock: timers fire only in Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1e9, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves the clock forward by d, firing due timers in order at
// their own times.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		var next *fakeTimer
		for len(c.timers) > 0 {
			t := c.timers[0]
			if t.stopped {
				c.timers = c.timers[1:]
				continue
			}
			if !t.at.After(end) {
				next = t
				c.timers = c.timers[1:]
				c.now = t.at
				t.stopped = true
			}
			break
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		next.f()
	}
}

// Pending reports the number of live timers.
func (c *fakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

// recordConn wraps a BatchConn and records the clock time of every
// datagram written.
type recordConn struct {
	uring.BatchConn
	clock Clock
	mu    sync.Mutex
	sends []sent
}

type sent struct {
	at   time.Time
	to   netip.AddrPort
	data []byte
}

func (r *recordConn) WriteBatch(ms []uring.Msg) (int, error) {
	r.mu.Lock()
	for _, m := range ms {
		r.sends = append(r.sends, sent{r.clock.Now(), m.Addr, append([]byte(nil), m.Buf...)})
	}
	r.mu.Unlock()
	return r.BatchConn.WriteBatch(ms)
}

func (r *recordConn) Sent() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.sends...)
}

func listenUDP(t interface{ Fatal(...any) }) *net.UDPConn {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return uc
}
