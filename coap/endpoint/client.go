package endpoint

import (
	"bytes"
	"context"
	"net/netip"

	"github.com/edgekit/edgekit/coap"
)

// Response is a response received by the client. It owns its memory.
type Response struct {
	// Msg is the (last) response message.
	Msg *coap.Message
	// Body is the payload, or the whole body of a Block2 transfer.
	Body []byte
	// Peer is the responder's address.
	Peer netip.AddrPort
}

// Code returns the response code.
func (r *Response) Code() coap.Code { return r.Msg.Code }

// Get sends a CON GET for path to peer.
func (e *Endpoint) Get(ctx context.Context, peer netip.AddrPort, path string) (*Response, error) {
	var m coap.Message
	m.Code = coap.GET
	m.SetPath(path)
	return e.Do(ctx, peer, &m)
}

// Post sends a CON POST of body with content format cf.
func (e *Endpoint) Post(ctx context.Context, peer netip.AddrPort, path string, cf coap.MediaType, body []byte) (*Response, error) {
	return e.withBody(ctx, peer, coap.POST, path, cf, body)
}

// Put sends a CON PUT of body with content format cf.
func (e *Endpoint) Put(ctx context.Context, peer netip.AddrPort, path string, cf coap.MediaType, body []byte) (*Response, error) {
	return e.withBody(ctx, peer, coap.PUT, path, cf, body)
}

// Delete sends a CON DELETE for path.
func (e *Endpoint) Delete(ctx context.Context, peer netip.AddrPort, path string) (*Response, error) {
	var m coap.Message
	m.Code = coap.DELETE
	m.SetPath(path)
	return e.Do(ctx, peer, &m)
}

func (e *Endpoint) withBody(ctx context.Context, peer netip.AddrPort, code coap.Code, path string, cf coap.MediaType, body []byte) (*Response, error) {
	var m coap.Message
	m.Code = code
	m.SetPath(path)
	m.SetContentFormat(cf)
	m.Payload = body
	return e.Do(ctx, peer, &m)
}

// Ping sends a CoAP ping (an Empty CON) and waits for the peer's RST
// (RFC 7252 §4.3).
func (e *Endpoint) Ping(ctx context.Context, peer netip.AddrPort) error {
	mid := e.nextMID()
	done := make(chan txResult, 1)
	wire := []byte{coap.Version << 6, 0, byte(mid >> 8), byte(mid)}
	tx := e.startCON(peer, mid, wire, func(r txResult) { done <- r })
	select {
	case r := <-done:
		switch r {
		case txReset, txAcked:
			return nil
		case txCancelled:
			return ErrClosed
		}
		return ErrTimeout
	case <-ctx.Done():
		tx.finish(txCancelled)
		return ctx.Err()
	}
}

// Do sends the request req to peer and returns the response. req is not
// modified: Do works on a copy, to which it gives a new message id and,
// if req has none, a random token. req.Type NonConfirmable sends NON,
// anything else CON. A Payload longer than Config.BlockSize is uploaded
// block-wise (Block1, with a Request-Tag and Size1), and a Block2 response
// is fetched block by block with ETag checks and returned whole. ctx
// bounds the whole transfer.
func (e *Endpoint) Do(ctx context.Context, peer netip.AddrPort, req *coap.Message) (*Response, error) {
	if !req.Code.IsRequest() {
		return nil, ErrBadRequest
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	m := req.Clone()
	if m.Type != coap.NonConfirmable {
		m.Type = coap.Confirmable
	}
	if m.Token.IsZero() {
		m.Token = e.newToken()
	}
	body := req.Payload
	if e.p.szx < 6 && (m.Code == coap.GET || m.Code == coap.FETCH) && !m.HasOption(coap.Block2) {
		// RFC 7959 §2.4 early negotiation: ask for our smaller blocks.
		m.SetBlock2(coap.Block{SZX: e.p.szx})
	}
	var resp *coap.Message
	var from netip.AddrPort
	var err error
	size := 16 << e.p.szx
	if len(body) > size {
		resp, from, err = e.upload(ctx, peer, m, body)
	} else {
		resp, from, err = e.roundTrip(ctx, peer, m)
	}
	if err != nil {
		return nil, err
	}
	return e.download(ctx, peer, m, resp, from)
}

// roundTrip sends one message and waits for its response. A 4.01
// answer carrying an Echo option (RFC 9175 §2.3) is retried once with
// that Echo.
func (e *Endpoint) roundTrip(ctx context.Context, peer netip.AddrPort, m *coap.Message) (*coap.Message, netip.AddrPort, error) {
	resp, from, err := e.roundTrip1(ctx, peer, m)
	if err != nil || resp.Code != coap.Unauthorized {
		return resp, from, err
	}
	echo, ok := resp.Option(coap.Echo)
	if !ok {
		return resp, from, err
	}
	if old, had := m.Option(coap.Echo); had && string(old) == string(echo) {
		return resp, from, err
	}
	m.SetOption(coap.Echo, append([]byte(nil), echo...))
	return e.roundTrip1(ctx, peer, m)
}

func (e *Endpoint) roundTrip1(ctx context.Context, peer netip.AddrPort, m *coap.Message) (*coap.Message, netip.AddrPort, error) {
	if err := e.acquire(ctx, peer); err != nil {
		return nil, peer, err
	}
	defer e.release(peer)
	ex := &exchange{token: m.Token, peer: peer, ch: make(chan result, 1)}
	e.addToken(ex)
	defer e.removeToken(ex)
	m.MessageID = e.nextMID()
	wire, err := m.AppendBinary(make([]byte, 0, m.EncodedLen()))
	if err != nil {
		return nil, peer, err
	}
	var tx *conTx
	var respTimer Timer
	defer func() {
		if tx != nil {
			tx.finish(txCancelled)
		}
		if respTimer != nil {
			respTimer.Stop()
		}
	}()
	armResponseTimer := func() Timer {
		return e.afterFunc(e.p.ResponseTimeout, func() { ex.fail(ErrTimeout) })
	}
	if m.Type == coap.Confirmable {
		acked := make(chan struct{})
		tx = e.startCON(peer, m.MessageID, wire, func(r txResult) {
			switch r {
			case txAcked:
				close(acked)
			case txReset:
				ex.fail(ErrReset)
			case txTimeout:
				ex.fail(ErrTimeout)
			}
		})
		for {
			select {
			case r := <-ex.ch:
				return r.msg, r.peer, r.err
			case <-acked:
				// Empty ACK: a separate response follows (§5.2.2).
				respTimer = armResponseTimer()
				acked = nil
			case <-ctx.Done():
				return nil, peer, ctx.Err()
			}
		}
	}
	respTimer = armResponseTimer()
	if err := e.send(peer, wire); err != nil {
		return nil, peer, err
	}
	select {
	case r := <-ex.ch:
		return r.msg, r.peer, r.err
	case <-ctx.Done():
		return nil, peer, ctx.Err()
	}
}

// upload sends body block-wise with Block1 (RFC 7959 §2.5), adapting to a
// smaller block size the server asks for.
func (e *Endpoint) upload(ctx context.Context, peer netip.AddrPort, m *coap.Message, body []byte) (*coap.Message, netip.AddrPort, error) {
	szx := e.p.szx
	var tag [4]byte
	e.randBytes(tag[:])
	m.SetOption(coap.RequestTag, tag[:])
	m.SetUint(coap.Size1, uint32(len(body)))
	offset := 0
	for {
		size := 16 << szx
		end := min(offset+size, len(body))
		more := end < len(body)
		m.SetBlock1(coap.Block{Num: uint32(offset / size), More: more, SZX: szx})
		m.Payload = body[offset:end]
		resp, from, err := e.roundTrip(ctx, peer, m)
		if err != nil {
			return nil, from, err
		}
		if resp.Code != coap.Continue {
			return resp, from, nil // the final response, or an error
		}
		if !more {
			return nil, from, ErrBlockwise // 2.31 to the last block
		}
		if b, ok, err := resp.Block1(); err == nil && ok && b.SZX < szx {
			szx = b.SZX // §2.3: the server wants smaller blocks
		}
		offset = end
		m.RemoveOption(coap.Size1)
	}
}

// download completes a Block2 response (RFC 7959 §2.4): it asks for the
// remaining blocks with the request's options and checks that the ETag
// stays the same.
func (e *Endpoint) download(ctx context.Context, peer netip.AddrPort, req, resp *coap.Message, from netip.AddrPort) (*Response, error) {
	b, ok, err := resp.Block2()
	if err != nil {
		return nil, err
	}
	if !ok || !b.More || !resp.Code.IsSuccess() {
		return &Response{Msg: resp, Body: resp.Payload, Peer: from}, nil
	}
	etag, _ := resp.Option(coap.ETag)
	body := append([]byte(nil), resp.Payload...)
	next := req.Clone()
	next.RemoveOption(coap.Block1)
	next.RemoveOption(coap.Size1)
	next.RemoveOption(coap.Observe)
	next.RemoveOption(coap.RequestTag)
	next.Payload = nil
	for b.More {
		if len(body) > e.p.MaxBodySize {
			return nil, ErrBodyTooLarge
		}
		size := b.Size()
		if len(body)%size != 0 {
			return nil, ErrBlockwise
		}
		next.SetBlock2(coap.Block{Num: uint32(len(body) / size), SZX: b.SZX})
		r, f, err := e.roundTrip(ctx, peer, next)
		if err != nil {
			return nil, err
		}
		if !r.Code.IsSuccess() {
			return &Response{Msg: r, Body: r.Payload, Peer: f}, nil
		}
		nb, ok, err := r.Block2()
		if err != nil || !ok || nb.Offset() != len(body) {
			return nil, ErrBlockwise
		}
		if t, _ := r.Option(coap.ETag); !bytes.Equal(t, etag) {
			return nil, ErrETagMismatch
		}
		body = append(body, r.Payload...)
		b, resp = nb, r
	}
	if len(body) > e.p.MaxBodySize {
		return nil, ErrBodyTooLarge
	}
	return &Response{Msg: resp, Body: body, Peer: from}, nil
}

// Multicast sends req as a NON request to a multicast group (RFC 7252
// §8.1) and calls fn for each response until fn returns false or ctx is
// done (which is the normal end: a multicast request has no last
// response). It returns nil when fn stopped it, else ctx.Err().
func (e *Endpoint) Multicast(ctx context.Context, group netip.AddrPort, req *coap.Message, fn func(*Response) bool) error {
	if !req.Code.IsRequest() {
		return ErrBadRequest
	}
	m := req.Clone()
	m.Type = coap.NonConfirmable
	if m.Token.IsZero() {
		m.Token = e.newToken()
	}
	m.MessageID = e.nextMID()
	ex := &exchange{token: m.Token, peer: group, anyPeer: true, ch: make(chan result, 64)}
	e.addToken(ex)
	defer e.removeToken(ex)
	wire, err := m.AppendBinary(nil)
	if err != nil {
		return err
	}
	if err := e.send(group, wire); err != nil {
		return err
	}
	for {
		select {
		case r := <-ex.ch:
			if r.err != nil {
				return r.err
			}
			if !fn(&Response{Msg: r.msg, Body: r.msg.Payload, Peer: r.peer}) {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
