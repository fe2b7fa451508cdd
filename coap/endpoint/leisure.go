package endpoint

import (
	"net/netip"
	"sync"
	"time"

	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/uring"
)

// leisureQueue holds the responses of a multicast endpoint until the
// random delay within Config.Leisure that each waits has passed (RFC 7252
// §8.2). It is one min-heap ordered by due time, bounded by
// Config.MaxPendingMulticast, and driven by a single Clock timer set for
// the earliest response: no timer and no goroutine per response.
type leisureQueue struct {
	mu      sync.Mutex
	items   []leisureItem // min-heap by at
	timer   Timer         // the one timer, set for armed; nil when idle
	armed   time.Duration
	gen     uint64 // identifies the current timer: an older one that fires does nothing
	stopped bool
}

type leisureItem struct {
	at   time.Duration // due, on the endpoint's clock (see Endpoint.now)
	peer netip.AddrPort
	buf  *mempool.Buf
}

// sendLater sends a copy of b to peer after a random time within the
// leisure, or drops it (counted in Stats.MulticastDropped) when
// Config.MaxPendingMulticast responses are already waiting.
func (e *Endpoint) sendLater(peer netip.AddrPort, b []byte) {
	d := time.Duration(e.randFloat() * float64(e.p.Leisure))
	q := &e.leisure
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped || len(q.items) >= e.p.MaxPendingMulticast {
		e.stats.multicastDropped.Add(1)
		return
	}
	buf := e.pool.Get(len(b))
	copy(buf.B, b)
	now := e.now()
	q.push(leisureItem{at: now + d, peer: peer, buf: buf})
	e.stats.multicastPending.Add(1)
	if q.timer == nil || now+d < q.armed {
		q.arm(e, now+d, now)
	}
}

// arm (re)sets the timer for at; q.mu is held.
func (q *leisureQueue) arm(e *Endpoint, at, now time.Duration) {
	if q.timer != nil {
		q.timer.Stop()
	}
	q.gen++
	gen := q.gen
	q.armed = at
	q.timer = e.afterFunc(max(at-now, 0), func() { q.fire(e, gen) })
}

// fire sends the responses that are due and sets the timer for the next.
func (q *leisureQueue) fire(e *Endpoint, gen uint64) {
	q.mu.Lock()
	if gen != q.gen || q.stopped {
		q.mu.Unlock()
		return // replaced by an earlier deadline, or closed
	}
	q.timer = nil
	now := e.now()
	var due []uring.Msg
	var bufs []*mempool.Buf
	for len(q.items) > 0 && q.items[0].at <= now {
		it := q.pop()
		due = append(due, uring.Msg{Buf: it.buf.B, Addr: it.peer})
		bufs = append(bufs, it.buf)
	}
	if len(q.items) > 0 {
		q.arm(e, q.items[0].at, now)
	}
	q.mu.Unlock()
	e.stats.multicastPending.Add(-int64(len(due)))
	e.sendBatch(due)
	for _, b := range bufs {
		b.Release()
	}
}

// stop stops the timer; later sendLater calls drop their response.
func (q *leisureQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.gen++
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	q.mu.Unlock()
}

// releaseAll returns the buffers of the responses never sent (on Close).
func (q *leisureQueue) releaseAll(e *Endpoint) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.items {
		q.items[i].buf.Release()
		q.items[i] = leisureItem{}
	}
	e.stats.multicastPending.Add(-int64(len(q.items)))
	q.items = q.items[:0]
}

// push adds it to the heap.
func (q *leisureQueue) push(it leisureItem) {
	q.items = append(q.items, it)
	h := q.items
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

// pop removes and returns the earliest item.
func (q *leisureQueue) pop() leisureItem {
	h := q.items
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = leisureItem{}
	h = h[:last]
	for i := 0; ; {
		m := 2*i + 1
		if m >= len(h) {
			break
		}
		if r := m + 1; r < len(h) && h[r].at < h[m].at {
			m = r
		}
		if h[i].at <= h[m].at {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.items = h
	return top
}
