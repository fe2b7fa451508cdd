package endpoint

import (
	"errors"
	"net/netip"
	"sync/atomic"

	"github.com/edgekit/edgekit/coap"
)

// worker owns the scratch space for one goroutine of the bounded pool:
// the decoded message, the response under construction and the encode
// buffer, so that the per-request path allocates nothing.
type worker struct {
	e   *Endpoint
	in  coap.Message
	req Request
	rw  ResponseWriter
	out []byte

	// Echo (RFC 9175): the worker's MAC and scratch (nil unless
	// Config.Echo is enabled), the size of the datagram being served and
	// whether its request carried a fresh Echo (or is a challenge).
	echo   *echoState
	inLen  int
	echoOK bool

	// The CON request whose handler is running, for the separate-response
	// watchdog: sepState is sepIdle, sepRunning (peer, mid and since are
	// valid; written before the state) or sepAcked (an Empty ACK went out).
	sepState atomic.Int32
	sepSince atomic.Int64
	sepPeer  netip.AddrPort
	sepMID   coap.MessageID
}

const (
	sepIdle int32 = iota
	sepRunning
	sepAcked
)

func newWorker(e *Endpoint) *worker {
	w := &worker{e: e, out: make([]byte, 0, e.p.MaxMessageSize+64)}
	w.rw.e = e
	w.rw.wk = w
	w.initEcho()
	e.workerMu.Lock()
	e.allWorkers = append(e.allWorkers, w)
	e.workerMu.Unlock()
	return w
}

// ackRunning sends the Empty ACK for the running CON request if nobody
// has yet (RFC 7252 §5.2.2); the response then goes out separately.
func (w *worker) ackRunning() bool {
	if !w.sepState.CompareAndSwap(sepRunning, sepAcked) {
		return false
	}
	peer, mid := w.sepPeer, w.sepMID
	ack := []byte{coap.Version<<6 | byte(coap.Acknowledgement)<<4, 0, byte(mid >> 8), byte(mid)}
	_ = w.e.send(peer, ack)
	w.e.dedup.store(w.e.pool, dedupKey{peer, mid}, ack)
	return true
}

// separateWatchdog acknowledges CON requests whose handler has run for
// Config.SeparateAfter, so that the client stops retransmitting. It is
// driven by the Clock and scans the workers: nothing per request.
func (e *Endpoint) separateWatchdog() {
	if e.closed.Load() {
		return
	}
	now := int64(e.now())
	after := int64(e.p.SeparateAfter)
	e.workerMu.Lock()
	for _, w := range e.allWorkers {
		if w.sepState.Load() == sepRunning && now-w.sepSince.Load() >= after {
			w.ackRunning()
		}
	}
	e.workerMu.Unlock()
	e.hkMu.Lock()
	if !e.closed.Load() {
		e.sepTimer = e.afterFunc(e.p.SeparateAfter/2, e.separateWatchdog)
	}
	e.hkMu.Unlock()
}

func (w *worker) run() {
	defer w.e.wg.Done()
	for it := range w.e.work {
		w.handle(it.buf.B[:it.n], it.peer)
		it.buf.Release()
	}
}

// handle processes one received datagram.
func (w *worker) handle(b []byte, peer netip.AddrPort) {
	e := w.e
	m := &w.in
	w.inLen = len(b)
	if _, err := m.Decode(b); err != nil {
		if errors.Is(err, coap.ErrFormat) {
			e.stats.formatErrors.Add(1)
			// §4.2, §4.3: a CON or NON with a format error is rejected
			// (for a NON the RST is optional; libcoap sends it too); an
			// ACK or RST is silently ignored; §8.2: never to multicast.
			if (m.Type == coap.Confirmable || m.Type == coap.NonConfirmable) && !e.p.Multicast {
				w.sendEmpty(peer, coap.Reset, m.MessageID)
			}
		}
		return
	}
	switch {
	case m.Code == coap.Empty:
		switch m.Type {
		case coap.Confirmable: // CoAP ping (§4.3): answered with RST
			if !e.p.Multicast {
				w.sendEmpty(peer, coap.Reset, m.MessageID)
			}
		case coap.Acknowledgement:
			e.onAck(peer, m.MessageID)
		case coap.Reset:
			e.onReset(peer, m.MessageID)
		}
	case m.Code.IsRequest():
		w.serve(peer)
	default:
		w.onResponse(peer)
	}
}

// sendEmpty sends an Empty ACK or RST for mid and returns its bytes (in
// w.out).
func (w *worker) sendEmpty(peer netip.AddrPort, t coap.Type, mid coap.MessageID) []byte {
	w.out = append(w.out[:0], coap.Version<<6|byte(t)<<4, 0, byte(mid>>8), byte(mid))
	_ = w.e.send(peer, w.out)
	return w.out
}

// onResponse handles a response: piggybacked in an ACK, or a separate
// CON/NON response or notification.
func (w *worker) onResponse(peer netip.AddrPort) {
	e := w.e
	m := &w.in
	if m.Type == coap.Acknowledgement {
		e.onAck(peer, m.MessageID)
	} else {
		k := dedupKey{peer, m.MessageID}
		life := e.p.exchangeLifetime
		if m.Type == coap.NonConfirmable {
			life = e.p.nonLifetime
		}
		if dup, resp := e.dedup.seen(k, e.now(), life); dup {
			e.stats.duplicates.Add(1)
			if resp != nil {
				_ = e.send(peer, resp.B)
				resp.Release()
			}
			return
		}
	}
	ex := e.lookupToken(m.Token)
	if ex == nil || (!ex.anyPeer && ex.peer != peer) {
		// §4.2/§4.3: reject a response nobody waits for; for a notification
		// this is how a client that forgot an observation ends it (RFC 7641
		// §3.6).
		if m.Type != coap.Acknowledgement {
			w.sendEmpty(peer, coap.Reset, m.MessageID)
		}
		return
	}
	if _, err := m.CheckOptions(); err != nil {
		// §5.4.1: a response with an unrecognised critical option is rejected.
		if m.Type != coap.Acknowledgement {
			w.sendEmpty(peer, coap.Reset, m.MessageID)
		}
		ex.fail(coap.ErrBadOption)
		return
	}
	if m.Type == coap.Confirmable {
		ack := w.sendEmpty(peer, coap.Acknowledgement, m.MessageID)
		e.dedup.store(e.pool, dedupKey{peer, m.MessageID}, ack)
	}
	ex.deliver(m, peer)
}
