package endpoint

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/uring"
)

// ---- server side (RFC 7641 §4) ----

type obsKey struct {
	peer  netip.AddrPort
	token coap.Token
}

type observer struct {
	key     obsKey
	res     *obsResource
	req     *coap.Message // the registration request (owned)
	reqKey  uint64
	lastCON time.Duration
	count   int
	tx      *conTx
	mid     coap.MessageID // of the last NON notification
	hasMID  bool
}

type obsResource struct {
	path     string
	notifyMu sync.Mutex // serialises Notify calls
	mu       sync.Mutex
	seq      uint32
	list     []*observer
	idx      map[obsKey]int
}

type obsMIDShard struct {
	mu sync.Mutex
	m  map[midKey]*observer
}

// observeRegistry holds the observers per resource path. Notifications
// are sent from the goroutine that calls Notify, in batches: no
// goroutine per observer.
type observeRegistry struct {
	mu    sync.RWMutex
	res   map[string]*obsResource
	count atomic.Int64
	mids  [nShards]obsMIDShard
}

func (r *observeRegistry) init() {
	r.res = make(map[string]*obsResource)
	for i := range r.mids {
		r.mids[i].m = make(map[midKey]*observer)
	}
}

// register adds or refreshes the observation of req's resource by
// (peer, token) and returns the current sequence number.
func (r *observeRegistry) register(e *Endpoint, req *coap.Message, peer netip.AddrPort) (uint32, bool) {
	var pathBuf [128]byte
	path := req.AppendPath(pathBuf[:0])
	k := obsKey{peer, req.Token}
	r.mu.RLock()
	res := r.res[string(path)]
	r.mu.RUnlock()
	if res == nil {
		r.mu.Lock()
		if res = r.res[string(path)]; res == nil {
			res = &obsResource{path: string(path), idx: make(map[obsKey]int)}
			r.res[res.path] = res
		}
		r.mu.Unlock()
	}
	res.mu.Lock()
	defer res.mu.Unlock()
	if i, ok := res.idx[k]; ok {
		o := res.list[i]
		o.req = req.Clone() // §4.1: a re-registration replaces the request
		o.reqKey = requestKey(o.req, false)
		return res.seq, true
	}
	if r.count.Load() >= int64(e.p.MaxObservers) {
		return 0, false
	}
	r.count.Add(1)
	e.stats.observers.Add(1)
	o := &observer{key: k, res: res, req: req.Clone(), lastCON: e.now()}
	o.reqKey = requestKey(o.req, false)
	res.idx[k] = len(res.list)
	res.list = append(res.list, o)
	return res.seq, true
}

// deregister removes the observation by (peer, token) of req's resource
// (a GET with Observe=1, §3.6).
func (r *observeRegistry) deregister(e *Endpoint, req *coap.Message, peer netip.AddrPort) {
	var pathBuf [128]byte
	path := req.AppendPath(pathBuf[:0])
	r.mu.RLock()
	res := r.res[string(path)]
	r.mu.RUnlock()
	if res == nil {
		return
	}
	res.mu.Lock()
	i, ok := res.idx[obsKey{peer, req.Token}]
	var o *observer
	if ok {
		o = res.list[i]
	}
	res.mu.Unlock()
	if o != nil {
		r.remove(e, o)
	}
}

// remove forgets o.
func (r *observeRegistry) remove(e *Endpoint, o *observer) {
	res := o.res
	res.mu.Lock()
	i, ok := res.idx[o.key]
	if !ok || res.list[i] != o {
		res.mu.Unlock()
		return
	}
	last := len(res.list) - 1
	res.list[i] = res.list[last]
	res.idx[res.list[i].key] = i
	res.list[last] = nil
	res.list = res.list[:last]
	delete(res.idx, o.key)
	tx := o.tx
	o.tx = nil
	hasMID, mid := o.hasMID, o.mid
	res.mu.Unlock()
	r.count.Add(-1)
	e.stats.observers.Add(-1)
	if hasMID {
		r.forgetMID(midKey{o.key.peer, mid}, o)
	}
	if tx != nil {
		tx.finish(txCancelled)
	}
}

func (r *observeRegistry) forgetMID(k midKey, o *observer) {
	s := &r.mids[k.shard()]
	s.mu.Lock()
	if s.m[k] == o {
		delete(s.m, k)
	}
	s.mu.Unlock()
}

// onReset ends the observation whose NON notification was answered with
// RST (RFC 7641 §3.6).
func (r *observeRegistry) onReset(e *Endpoint, peer netip.AddrPort, mid coap.MessageID) {
	k := midKey{peer, mid}
	s := &r.mids[k.shard()]
	s.mu.Lock()
	o := s.m[k]
	s.mu.Unlock()
	if o != nil {
		r.remove(e, o)
	}
}

// sweep notifies each resource that has an observer without a CON
// notification for Config.ObserveConInterval, so that observers that went
// away are found even when the resource does not change (RFC 7641 §4.5).
// It runs from the housekeeping timer.
func (r *observeRegistry) sweep(e *Endpoint, now time.Duration) {
	r.mu.RLock()
	var stale []string
	for path, res := range r.res {
		res.mu.Lock()
		for _, o := range res.list {
			if now-o.lastCON >= e.p.ObserveConInterval && (o.tx == nil || o.tx.isDone()) {
				stale = append(stale, path)
				break
			}
		}
		res.mu.Unlock()
	}
	r.mu.RUnlock()
	for _, path := range stale {
		e.Notify(path)
	}
}

// Observers returns the number of observers of path.
func (e *Endpoint) Observers(path string) int {
	e.obs.mu.RLock()
	res := e.obs.res[path]
	e.obs.mu.RUnlock()
	if res == nil {
		return 0
	}
	res.mu.Lock()
	defer res.mu.Unlock()
	return len(res.list)
}

// Notify tells the observers of path (as "/a/b") that the resource
// changed: it runs the handler once per distinct registration request,
// encodes the options and payload once, and sends each observer its
// notification with the next sequence number (RFC 7641 §4.2), in batches
// from the calling goroutine. A notification is CON every
// Config.ObserveConEvery times and whenever the observer has not had a CON
// one for Config.ObserveConInterval; an observer that answers with RST or
// does not acknowledge a CON notification is removed. A non-2.xx result
// ends the observations it is sent to. A body larger than the block size
// sends its first block (Block2), and observers fetch the rest.
func (e *Endpoint) Notify(path string) {
	e.obs.mu.RLock()
	res := e.obs.res[path]
	e.obs.mu.RUnlock()
	if res == nil || e.closed.Load() {
		return
	}
	res.notifyMu.Lock()
	defer res.notifyMu.Unlock()
	res.mu.Lock()
	res.seq = (res.seq + 1) & 0xffffff
	seq := res.seq
	list := append([]*observer(nil), res.list...)
	res.mu.Unlock()
	for len(list) > 0 {
		// One group: the observers whose requests match the first one's.
		k := list[0].reqKey
		group := list[:0:0]
		rest := list[:0]
		for _, o := range list {
			if o.reqKey == k {
				group = append(group, o)
			} else {
				rest = append(rest, o)
			}
		}
		list = rest
		e.notifyGroup(res, group, seq)
	}
}

func (e *Endpoint) notifyGroup(res *obsResource, group []*observer, seq uint32) {
	first := group[0]
	rw := &ResponseWriter{e: e}
	rw.reset(first.req, first.key.peer)
	req := &Request{Msg: first.req, Peer: first.key.peer, Notification: true}
	if h := e.p.Handler; h == nil {
		rw.SetCode(coap.NotFound)
	} else {
		func() {
			defer func() {
				if r := recover(); r != nil {
					e.stats.handlerPanics.Add(1)
					rw.msg.Reset()
					rw.body = rw.body[:0]
					rw.SetCode(coap.InternalServerError)
				}
			}()
			h.ServeCoAP(rw, req)
		}()
	}
	if rw.tooLarge {
		rw.msg.Reset()
		rw.body = rw.body[:0]
		rw.SetCode(coap.InternalServerError)
	}
	if !rw.codeSet {
		rw.msg.Code = coap.Content
	}
	resp := &rw.msg
	ok := resp.Code.IsSuccess()
	body := rw.body
	if size := 16 << e.p.szx; len(body) > size {
		resp.SetBlock2(coap.Block{More: true, SZX: e.p.szx})
		resp.SetUint(coap.Size2, uint32(len(body)))
		if !resp.HasOption(coap.ETag) {
			tag := etagOf(body)
			resp.AddOptionCopy(coap.ETag, tag[:])
		}
		// The observers fetch the other blocks with plain GETs: serve
		// them this body, not an older cached one (one shared copy).
		en := newBlockEntry(e, resp, body)
		for _, o := range group {
			e.blocks.putEntry(e, bodyKey{o.key.peer, o.reqKey}, en)
		}
		body = body[:size]
	}
	if ok {
		resp.SetUint(coap.Observe, seq)
	}
	// Encode everything after the token once.
	tail, err := coap.AppendOptions(nil, 0, resp.Options)
	if err != nil {
		e.log.Error("coap: encode notification", "err", err)
		return
	}
	if len(body) > 0 {
		tail = append(tail, 0xff)
		tail = append(tail, body...)
	}
	now := e.now()
	const batch = 64
	stride := 4 + 8 + len(tail)
	buf := make([]byte, 0, min(len(group), batch)*stride)
	msgs := make([]uring.Msg, 0, batch)
	flush := func() {
		if len(msgs) > 0 {
			e.sendBatch(msgs)
			msgs = msgs[:0]
			buf = buf[:0]
		}
	}
	for _, o := range group {
		mid := e.nextMID()
		res.mu.Lock()
		if _, live := res.idx[o.key]; !live {
			res.mu.Unlock()
			continue
		}
		o.count++
		// §4.5.2: a notification replacing a CON still in flight is CON
		// too and inherits its retransmission state.
		if o.tx != nil && o.tx.isDone() {
			o.tx = nil
		}
		con := o.tx != nil || now-o.lastCON >= e.p.ObserveConInterval ||
			(e.p.ObserveConEvery > 0 && o.count%e.p.ObserveConEvery == 0)
		oldTx := o.tx
		o.tx = nil
		oldMID, hadMID := o.mid, o.hasMID
		if !con {
			o.mid, o.hasMID = mid, true
		} else {
			o.hasMID = false
		}
		res.mu.Unlock()
		var tries int
		var wait time.Duration
		if oldTx != nil {
			tries, wait = oldTx.progress()
			oldTx.finish(txCancelled)
		}
		if hadMID {
			e.obs.forgetMID(midKey{o.key.peer, oldMID}, o)
		}
		typ := coap.NonConfirmable
		if con {
			typ = coap.Confirmable
		}
		tkl := o.key.token.Len()
		start := len(buf)
		buf = append(buf, coap.Version<<6|byte(typ)<<4|byte(tkl), byte(resp.Code), byte(mid>>8), byte(mid))
		buf = o.key.token.AppendTo(buf)
		buf = append(buf, tail...)
		dgram := buf[start:len(buf):len(buf)]
		e.stats.notifications.Add(1)
		if con {
			wire := append([]byte(nil), dgram...)
			buf = buf[:start]
			obs := o
			tx := e.startCONFrom(o.key.peer, mid, wire, func(r txResult) {
				switch r {
				case txAcked:
					res.mu.Lock()
					obs.lastCON = e.now()
					res.mu.Unlock()
				case txReset, txTimeout:
					e.obs.remove(e, obs)
				}
			}, tries, wait)
			res.mu.Lock()
			if _, live := res.idx[o.key]; live && o.tx == nil {
				o.tx = tx
			}
			res.mu.Unlock()
		} else {
			k := midKey{o.key.peer, mid}
			s := &e.obs.mids[k.shard()]
			s.mu.Lock()
			s.m[k] = o
			s.mu.Unlock()
			msgs = append(msgs, uring.Msg{Buf: dgram, Addr: o.key.peer})
			if len(msgs) == batch {
				flush()
			}
		}
		if !ok {
			e.obs.remove(e, o)
		}
	}
	flush()
}

// ---- client side (RFC 7641 §3) ----

// Observation is a client's registration with an observable resource.
// Its callback runs on an endpoint worker, one notification at a time,
// and must not block. Its methods are safe for concurrent use.
type Observation struct {
	e    *Endpoint
	peer netip.AddrPort
	req  *coap.Message
	ex   *exchange
	fn   func(*Response)

	fnMu    sync.Mutex // serialises notify and the calls of fn
	mu      sync.Mutex
	got     bool // registration answered
	seq     uint32
	seqTime time.Duration
	ended   bool
	err     error
	rereg   Timer
	// block-wise notification fetching, under mu
	fetching    bool
	pending     *coap.Message
	pendingPeer netip.AddrPort
	first       chan *coap.Message
	done        chan struct{}
}

// ReregisterMargin is added to a notification's Max-Age before the client
// re-registers its interest when no newer notification came (RFC 7641
// §3.3.1).
const ReregisterMargin = 5 * time.Second

// Observe registers interest in the resource req names (a GET or FETCH;
// GET if req.Code is 0) with peer, and calls fn with the response to the
// registration and with every fresh notification after it (RFC 7641 §3.4
// orders them; stale ones are dropped). Notifications with Block2 are
// completed before fn sees them. ctx bounds the registration only; the
// observation lasts until Cancel, an error (see Done and Err) or Close.
// If the server answers without the Observe option, fn still sees the
// response and Observe returns [ErrNotObservable].
func (e *Endpoint) Observe(ctx context.Context, peer netip.AddrPort, req *coap.Message, fn func(*Response)) (*Observation, error) {
	m := req.Clone()
	if m.Code == coap.Empty {
		m.Code = coap.GET
	}
	if m.Code != coap.GET && m.Code != coap.FETCH {
		return nil, ErrBadRequest
	}
	if m.Type != coap.NonConfirmable {
		m.Type = coap.Confirmable
	}
	m.Token = e.newToken()
	m.SetUint(coap.Observe, 0)
	o := &Observation{e: e, peer: peer, req: m, fn: fn, first: make(chan *coap.Message, 1), done: make(chan struct{})}
	o.ex = &exchange{token: m.Token, peer: peer, obs: o}
	e.addToken(o.ex)
	if err := e.acquire(ctx, peer); err != nil {
		o.end(err)
		return nil, err
	}
	o.register()
	var err error
	select {
	case first := <-o.first:
		if _, ok := first.Observe(); !ok || !first.Code.IsSuccess() {
			o.end(ErrNotObservable)
			err = ErrNotObservable
		}
	case <-o.done:
		err = o.Err()
	case <-ctx.Done():
		o.end(ctx.Err())
		err = ctx.Err()
	}
	e.release(peer)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// register sends the registration (again, with the same token).
func (o *Observation) register() {
	e := o.e
	m := o.req.Clone()
	m.MessageID = e.nextMID()
	wire, err := m.AppendBinary(nil)
	if err != nil {
		o.end(err)
		return
	}
	if m.Type == coap.NonConfirmable {
		_ = e.send(o.peer, wire)
		o.mu.Lock()
		if !o.got && !o.ended {
			// Nothing acknowledges a NON: give up on the registration
			// after the response timeout.
			e.afterFunc(e.p.ResponseTimeout, func() {
				o.mu.Lock()
				got := o.got
				o.mu.Unlock()
				if !got {
					o.end(ErrTimeout)
				}
			})
		}
		o.mu.Unlock()
		return
	}
	e.startCON(o.peer, m.MessageID, wire, func(r txResult) {
		switch r {
		case txReset:
			o.end(ErrReset)
		case txTimeout:
			o.end(ErrTimeout)
		}
	})
}

// fresh implements the §3.4 rule: is (v2, t2) newer than (v1, t1)?
func fresh(v1 uint32, t1 time.Duration, v2 uint32, t2 time.Duration) bool {
	return (v1 < v2 && v2-v1 < 1<<23) || (v1 > v2 && v1-v2 > 1<<23) || t2 > t1+128*time.Second
}

// notify handles a response with the observation's token (on a worker).
func (o *Observation) notify(m *coap.Message, peer netip.AddrPort) {
	o.fnMu.Lock()
	defer o.fnMu.Unlock()
	e := o.e
	now := e.now()
	seq, has := m.Observe()
	o.mu.Lock()
	if o.ended {
		o.mu.Unlock()
		return
	}
	firstOne := !o.got
	if !firstOne && has && !fresh(o.seq, o.seqTime, seq, now) {
		o.mu.Unlock()
		return // reordered: older than what fn has seen
	}
	o.got = true
	if has {
		o.seq, o.seqTime = seq, now
	}
	endNow := !has || !m.Code.IsSuccess()
	if !endNow {
		if o.rereg != nil {
			o.rereg.Stop()
		}
		d := time.Duration(m.MaxAgeSeconds())*time.Second + ReregisterMargin
		o.rereg = e.afterFunc(d, o.reregister)
	}
	o.mu.Unlock()
	c := m.Clone()
	if firstOne {
		o.first <- c
	}
	if b, ok, err := c.Block2(); err == nil && ok && b.More && c.Code.IsSuccess() {
		o.startFetch(c, peer)
	} else {
		o.fn(&Response{Msg: c, Body: c.Payload, Peer: peer})
	}
	if endNow && !firstOne {
		o.end(ErrObservationEnd)
	}
}

// startFetch completes a block-wise notification in the background: one
// goroutine per observation at most, and a notification arriving
// meanwhile is fetched next (only the newest one waits).
func (o *Observation) startFetch(c *coap.Message, peer netip.AddrPort) {
	o.mu.Lock()
	if o.fetching {
		o.pending, o.pendingPeer = c, peer
		o.mu.Unlock()
		return
	}
	o.fetching = true
	o.mu.Unlock()
	go func() {
		for {
			o.fetchRest(c, peer)
			o.mu.Lock()
			if o.pending == nil || o.ended {
				o.fetching, o.pending = false, nil
				o.mu.Unlock()
				return
			}
			c, peer = o.pending, o.pendingPeer
			o.pending = nil
			o.mu.Unlock()
		}
	}()
}

// fetchRest completes a notification sent block-wise (RFC 7959 §3.4).
func (o *Observation) fetchRest(first *coap.Message, peer netip.AddrPort) {
	ctx, cancel := context.WithTimeout(context.Background(), o.e.p.exchangeLifetime)
	defer cancel()
	req := o.req.Clone()
	req.RemoveOption(coap.Observe)
	req.Token = o.e.newToken()
	r, err := o.e.download(ctx, o.peer, req, first, peer)
	if errors.Is(err, ErrETagMismatch) {
		// The resource changed again while we fetched: get it whole.
		req.Token = coap.Token{}
		r, err = o.e.Do(ctx, o.peer, req)
	}
	if err != nil {
		o.e.log.Debug("coap: fetching a block-wise notification", "err", err)
		return
	}
	o.fnMu.Lock()
	defer o.fnMu.Unlock()
	o.mu.Lock()
	ended := o.ended
	o.mu.Unlock()
	if !ended {
		o.fn(r)
	}
}

func (o *Observation) reregister() {
	o.mu.Lock()
	ended := o.ended
	o.mu.Unlock()
	if !ended && !o.e.closed.Load() {
		o.register()
	}
}

// end finishes the observation locally.
func (o *Observation) end(err error) {
	o.mu.Lock()
	if o.ended {
		o.mu.Unlock()
		return
	}
	o.ended, o.err = true, err
	if o.rereg != nil {
		o.rereg.Stop()
	}
	o.mu.Unlock()
	o.e.removeToken(o.ex)
	close(o.done)
}

// Done is closed when the observation has ended.
func (o *Observation) Done() <-chan struct{} { return o.done }

// Err returns why the observation ended (nil while it lasts).
func (o *Observation) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// Cancel ends the observation and deregisters it with a GET carrying
// Observe=1 and the same token (RFC 7641 §3.6), waiting for the answer
// within ctx.
func (o *Observation) Cancel(ctx context.Context) error {
	o.end(ErrObservationEnd)
	m := o.req.Clone()
	m.Type = coap.Confirmable
	m.SetUint(coap.Observe, 1)
	_, _, err := o.e.roundTrip(ctx, o.peer, m)
	return err
}
