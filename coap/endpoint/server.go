package endpoint

import (
	"net/netip"

	"github.com/edgekit/edgekit/coap"
)

// Handler answers CoAP requests. ServeCoAP runs on an endpoint worker: it
// should not block for long (call [ResponseWriter.Separate] first if it
// must), and it must not keep r or w after returning.
type Handler interface {
	ServeCoAP(w *ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(w *ResponseWriter, r *Request)

// ServeCoAP calls f(w, r).
func (f HandlerFunc) ServeCoAP(w *ResponseWriter, r *Request) { f(w, r) }

// Request is a request handed to a [Handler]. It and everything it points
// to are valid only during the ServeCoAP call; Clone Msg and copy Body to
// keep them.
type Request struct {
	// Msg is the request message (for a Block1 upload, its last block).
	Msg *coap.Message
	// Peer is the address of the client.
	Peer netip.AddrPort
	// Body is the request payload, or the whole reassembled body of a
	// Block1 upload (RFC 7959 §2.5).
	Body []byte
	// Multicast reports a request received on a multicast endpoint.
	Multicast bool
	// Notification reports that the handler is producing a notification
	// for the observers of the resource (see [Endpoint.Notify]); Peer is
	// then one of them.
	Notification bool
}

// ResponseWriter builds the response to a request. It is not safe for
// concurrent use and is valid only during ServeCoAP.
type ResponseWriter struct {
	e         *Endpoint
	msg       coap.Message
	body      []byte
	codeSet   bool
	obsOK     bool
	separate  bool
	tooLarge  bool
	fromCache bool
	peer      netip.AddrPort
	req       *coap.Message
	wk        *worker // nil when producing a notification
}

func (w *ResponseWriter) reset(req *coap.Message, peer netip.AddrPort) {
	w.msg.Reset()
	w.body = w.body[:0]
	w.codeSet, w.obsOK, w.separate, w.tooLarge, w.fromCache = false, false, false, false, false
	w.req, w.peer = req, peer
}

// SetCode sets the response code. Without it the response is 2.05
// Content for GET and FETCH, 2.04 Changed otherwise.
func (w *ResponseWriter) SetCode(c coap.Code) { w.msg.Code, w.codeSet = c, true }

// Code returns the code set so far (0 if none).
func (w *ResponseWriter) Code() coap.Code { return w.msg.Code }

// Header returns the response message, to add options to. Its Type,
// MessageID, Token, Block and Observe options and Payload are set by the
// endpoint.
func (w *ResponseWriter) Header() *coap.Message { return &w.msg }

// SetContentFormat sets the Content-Format option.
func (w *ResponseWriter) SetContentFormat(cf coap.MediaType) { w.msg.SetContentFormat(cf) }

// Write appends p to the response body. A body longer than the block
// size is sent block-wise (RFC 7959 Block2) automatically. It fails with
// [ErrBodyTooLarge] beyond Config.MaxBodySize; the response is then 5.00.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if len(w.body)+len(p) > w.e.p.MaxBodySize {
		w.tooLarge = true
		return 0, ErrBodyTooLarge
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString is Write for a string.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	if len(w.body)+len(s) > w.e.p.MaxBodySize {
		w.tooLarge = true
		return 0, ErrBodyTooLarge
	}
	w.body = append(w.body, s...)
	return len(s), nil
}

// AllowObserve lets a GET with Observe=0 register an observation of this
// resource (RFC 7641) if the response is 2.xx. [Mux] calls it for
// resources registered with Attrs.Observable.
func (w *ResponseWriter) AllowObserve() { w.obsOK = true }

// Separate acknowledges a CON request at once with an Empty ACK; the
// response is then sent as a separate CON response when the handler
// returns (RFC 7252 §5.2.2). Use it before slow work.
func (w *ResponseWriter) Separate() {
	if w.wk != nil && w.wk.ackRunning() {
		w.separate = true
	}
}

// serve handles a request in w.in.
func (w *worker) serve(peer netip.AddrPort) {
	e := w.e
	m := &w.in
	multicast := e.p.Multicast
	w.echoOK = false // until a fresh Echo is verified below
	if multicast && m.Type == coap.Confirmable {
		// §8.1: a multicast request is NON. A CON one is ignored: no ACK
		// and no RST go to a multicast request (§8.2).
		return
	}
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
	rw := &w.rw
	rw.reset(m, peer)
	if _, err := m.CheckOptions(); err != nil {
		// §5.4.1: 4.02 for a CON; a NON is rejected (§4.3: with RST).
		if multicast {
			return
		}
		if m.Type == coap.Confirmable {
			rw.SetCode(coap.BadOption)
			w.respond(peer)
		} else {
			w.sendEmpty(peer, coap.Reset, m.MessageID)
		}
		return
	}
	// Critical options the codec knows but this endpoint does not
	// implement are unrecognised here (§5.4.1); there is no proxy (§5.7.2).
	for _, o := range m.Options {
		switch o.ID {
		case coap.OSCORE, coap.QBlock1, coap.QBlock2, coap.EDHOC:
			if m.Type == coap.Confirmable && !multicast {
				rw.SetCode(coap.BadOption)
				w.respond(peer)
			}
			return
		case coap.ProxyURI, coap.ProxyScheme:
			w.reject(peer, coap.ProxyingNotSupported)
			return
		}
	}
	// RFC 9175 §2.3: an unsafe request is acted on only with a fresh Echo.
	if e.p.Echo.enabled() {
		w.echoOK = w.echoFresh(m, peer)
		if e.p.Echo.Unsafe && !w.echoOK && unsafeMethod(m.Code) {
			w.echoChallenge(peer)
			return
		}
	}
	req := &w.req
	*req = Request{Msg: m, Peer: peer, Body: m.Payload, Multicast: multicast}

	// Block2 follow-up served from the cache of a large body.
	b2, has2, err := m.Block2()
	if err != nil {
		w.reject(peer, coap.BadRequest)
		return
	}
	if has2 && b2.Num > 0 && len(m.Payload) == 0 {
		if w.serveCachedBlock(peer, b2) {
			return
		}
	}

	// Block1 upload: reassemble before the handler sees the body.
	var b1 coap.Block
	b1, has1, err := m.Block1()
	if err != nil {
		w.reject(peer, coap.BadRequest)
		return
	}
	var up *reasm
	if has1 {
		var done bool
		if up, done = w.block1(peer, b1); !done {
			return
		}
		req.Body = up.body
	}

	e.stats.requests.Add(1)
	h := e.p.Handler
	if h == nil {
		rw.SetCode(coap.NotFound)
	} else {
		con := m.Type == coap.Confirmable && !multicast
		if con {
			w.sepPeer, w.sepMID = peer, m.MessageID
			w.sepSince.Store(int64(e.now()))
			w.sepState.Store(sepRunning)
		}
		w.callHandler(h, req)
		if con && !w.sepState.CompareAndSwap(sepRunning, sepIdle) {
			rw.separate = true // acknowledged meanwhile (Separate or the watchdog)
		}
		w.sepState.Store(sepIdle)
	}
	if has1 {
		szx := b1.SZX
		if szx > e.p.szx {
			szx = e.p.szx
		}
		rw.msg.SetBlock1(coap.Block{Num: uint32(b1.Offset() / (16 << szx)), SZX: szx})
		e.reasm.done(up, e)
	}
	w.respond(peer)
}

func (w *worker) callHandler(h Handler, req *Request) {
	defer func() {
		if r := recover(); r != nil {
			w.e.stats.handlerPanics.Add(1)
			w.e.log.Error("coap: handler panic", "panic", r)
			w.rw.msg.Reset()
			w.rw.body = w.rw.body[:0]
			w.rw.SetCode(coap.InternalServerError)
		}
	}()
	h.ServeCoAP(&w.rw, req)
}

// reject answers the request in w.in with an error code and no body.
func (w *worker) reject(peer netip.AddrPort, c coap.Code) {
	w.rw.reset(&w.in, peer)
	w.rw.SetCode(c)
	w.respond(peer)
}

// respond finishes and sends the response in w.rw to the request in
// w.in: default code, No-Response, observe registration, Block2 slicing,
// piggybacked, separate or NON, and the dedup cache.
func (w *worker) respond(peer netip.AddrPort) {
	e := w.e
	req := &w.in
	rw := &w.rw
	if rw.tooLarge {
		rw.msg.Reset()
		rw.body = rw.body[:0]
		rw.SetCode(coap.InternalServerError)
	}
	if !rw.codeSet {
		if req.Code == coap.GET || req.Code == coap.FETCH {
			rw.msg.Code = coap.Content
		} else {
			rw.msg.Code = coap.Changed
		}
	}
	resp := &rw.msg
	b2, has2, _ := req.Block2()
	body := rw.body
	// RFC 9175 §2.4: no more than three times the request's size to an
	// address not verified by a fresh Echo. Checked before observe
	// registration, so that no notification goes to it either.
	if e.p.Echo.Amplification && !w.echoOK && w.echo != nil && !e.p.Multicast {
		n := min(len(body), 16<<e.p.szx)
		if has2 && b2.SZX < e.p.szx {
			n = min(len(body), b2.Size())
		}
		// Block2, Size2 and ETag options add at most 16 bytes.
		if resp.EncodedLen()+req.Token.Len()+n+16 > amplificationFactor*w.inLen {
			w.echoChallenge(peer)
			return
		}
	}
	// §5.10.4: a representation in another format than Accept asks for.
	if accept, ok := req.Accept(); ok && resp.Code == coap.Content {
		if cf, ok := resp.ContentFormat(); ok && cf != accept {
			resp.Reset()
			resp.Code = coap.NotAcceptable
			body = nil
		}
	}
	// §5.10.6.2: a GET naming the current ETag gets 2.03 Valid, no body.
	if resp.Code == coap.Content && req.HasOption(coap.ETag) && !(has2 && b2.Num > 0) {
		if tag, ok := resp.Option(coap.ETag); ok && hasETag(req, tag) {
			resp.Code = coap.Valid
			body = nil
		}
	}

	// Observe (RFC 7641 §2, §4.1): only on the first block.
	if (req.Code == coap.GET || req.Code == coap.FETCH) && !(has2 && b2.Num > 0) {
		if v, ok := req.Observe(); ok {
			switch v {
			case 0:
				if rw.obsOK && resp.Code.IsSuccess() && !resp.HasOption(coap.Observe) {
					if seq, ok := e.obs.register(e, req, peer); ok {
						resp.SetUint(coap.Observe, seq)
					}
				}
			case 1:
				e.obs.deregister(e, req, peer)
			}
		}
	}

	if err := w.sliceBlock2(peer, body, has2, b2); err != nil {
		resp.Reset()
		resp.Code = coap.BadOption
		resp.Payload = nil
	}
	suppress := req.NoResponse().Suppresses(resp.Code)
	if e.p.Multicast && !resp.Code.IsSuccess() {
		suppress = true // §8.2: no error responses to multicast requests
	}

	resp.Token = req.Token
	separate := rw.separate
	switch {
	case req.Type == coap.Confirmable && !separate:
		resp.Type, resp.MessageID = coap.Acknowledgement, req.MessageID
	case req.Type == coap.Confirmable: // separate response (§5.2.2)
		resp.Type, resp.MessageID = coap.Confirmable, e.nextMID()
	default:
		resp.Type, resp.MessageID = coap.NonConfirmable, e.nextMID()
	}
	if suppress {
		// RFC 7967: no response; a CON still needs its ACK (§4.2).
		if req.Type == coap.Confirmable && !separate && !e.p.Multicast {
			ack := w.sendEmpty(peer, coap.Acknowledgement, req.MessageID)
			e.dedup.store(e.pool, dedupKey{peer, req.MessageID}, ack)
		}
		return
	}
	out, err := resp.AppendBinary(w.out[:0])
	if err != nil {
		e.log.Error("coap: encode response", "err", err)
		return
	}
	w.out = out
	switch {
	case e.p.Multicast:
		e.sendLater(peer, out)
	case resp.Type == coap.Confirmable:
		buf := append([]byte(nil), out...)
		e.startCON(peer, resp.MessageID, buf, nil)
	default:
		_ = e.send(peer, out)
		if req.Type == coap.Confirmable {
			e.dedup.store(e.pool, dedupKey{peer, req.MessageID}, out)
		}
	}
}

// coapSZX returns the SZX of a power-of-two block size.
func coapSZX(size int) uint8 { return coap.SZXFor(size) }

// hasETag reports whether m carries an ETag option equal to tag.
func hasETag(m *coap.Message, tag []byte) bool {
	for _, o := range m.Options {
		if o.ID == coap.ETag && string(o.Value) == string(tag) {
			return true
		}
	}
	return false
}
