package endpoint

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// DefaultEchoWindow is how long an Echo value the server issued stays
// fresh (EchoConfig.Window).
const DefaultEchoWindow = 10 * time.Second

// EchoConfig makes the server demand a fresh Echo option (RFC 9175 §2)
// before it acts. Both checks are off by default. A request that needs an
// Echo and carries none, or a stale or forged one, is answered with 4.01
// Unauthorized carrying a new Echo value (§2.3); the client repeats it with
// that value ([Endpoint.Do] does so once by itself, as libcoap's client
// does). Challenges are counted in Stats.EchoChallenges.
//
// The value is 14 bytes: a 6-byte timestamp (milliseconds on the endpoint's
// Clock) and the first 8 bytes of an HMAC-SHA256, under a random key drawn
// from Config.Rand when the endpoint starts, over the timestamp and the
// client's address and port. The server keeps no table: any worker
// verifies any value, and a value issued to one address is refused from
// another (§2.4: it proves the client receives at the address it claims).
//
// On a multicast endpoint no challenge is sent (RFC 7252 §8.2: no error
// responses), so an unsafe request without a fresh Echo is not served,
// and Amplification does not apply.
type EchoConfig struct {
	// Unsafe requires a fresh Echo on requests with an unsafe method
	// (POST, PUT, DELETE, PATCH, iPATCH; and FETCH, so that no body is
	// acted on unverified) before the handler runs (§2.3: freshness of
	// state-changing requests).
	Unsafe bool
	// Amplification answers a request from an address not verified by a
	// fresh Echo with 4.01 + Echo instead of a response more than three
	// times the size of the request (§2.4, amplification mitigation). The
	// handler has run (a safe request); its response is discarded.
	Amplification bool
	// Window is how long an issued Echo value is accepted (default 10 s).
	Window time.Duration
}

func (c EchoConfig) enabled() bool { return c.Unsafe || c.Amplification }

// echoLen is the length of the Echo values the server issues: a 6-byte
// timestamp and an 8-byte MAC.
const (
	echoTSLen  = 6
	echoMACLen = 8
	echoLen    = echoTSLen + echoMACLen
)

// amplificationFactor is the most a response to an unverified address may
// exceed its request by (RFC 9175 §2.4 follows QUIC's factor of three).
const amplificationFactor = 3

// echoState is a worker's scratch space for Echo values: its own HMAC (a
// hash.Hash is not safe for concurrent use) and fixed buffers, so that
// issuing and checking allocate nothing.
type echoState struct {
	mac hash.Hash
	in  [echoTSLen + 18]byte // timestamp, 16-byte address, port
	sum [sha256.Size]byte
	val [echoLen]byte
}

// initEcho draws the endpoint's Echo key (once, from the endpoint's random
// source) and gives w its MAC. It runs in newWorker; the first call is in
// New before any goroutine starts, so later readers of the key need no
// lock.
func (w *worker) initEcho() {
	e := w.e
	if !e.p.Echo.enabled() {
		return
	}
	if !e.p.echoKeySet {
		for i := 0; i < len(e.p.echoKey); i += 8 {
			e.randBytes(e.p.echoKey[i : i+8])
		}
		e.p.echoKeySet = true
	}
	w.echo = &echoState{mac: hmac.New(sha256.New, e.p.echoKey[:])}
}

// echoMAC computes the MAC of timestamp ts for peer into s.sum.
func (s *echoState) echoMAC(ts uint64, peer netip.AddrPort) []byte {
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ts)
	copy(s.in[:echoTSLen], t[8-echoTSLen:])
	a := peer.Addr().As16()
	copy(s.in[echoTSLen:], a[:])
	binary.BigEndian.PutUint16(s.in[echoTSLen+16:], peer.Port())
	s.mac.Reset()
	s.mac.Write(s.in[:])
	return s.mac.Sum(s.sum[:0])[:echoMACLen]
}

// echoNow is the endpoint's clock in milliseconds, the Echo timestamp.
func (e *Endpoint) echoNow() uint64 { return uint64(e.now() / time.Millisecond) }

// issueEcho returns a fresh Echo value for peer, in w's scratch space.
func (w *worker) issueEcho(peer netip.AddrPort) []byte {
	s := w.echo
	ts := w.e.echoNow()
	mac := s.echoMAC(ts, peer)
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ts)
	copy(s.val[:echoTSLen], t[8-echoTSLen:])
	copy(s.val[echoTSLen:], mac)
	return s.val[:]
}

// echoFresh reports whether m carries an Echo value this endpoint issued
// to peer within the window.
func (w *worker) echoFresh(m *coap.Message, peer netip.AddrPort) bool {
	v, ok := m.Option(coap.Echo)
	if !ok || len(v) != echoLen {
		return false
	}
	var t [8]byte
	copy(t[8-echoTSLen:], v[:echoTSLen])
	ts := binary.BigEndian.Uint64(t[:])
	now := w.e.echoNow()
	if ts > now || now-ts > uint64(w.e.p.Echo.Window/time.Millisecond) {
		return false
	}
	return hmac.Equal(w.echo.echoMAC(ts, peer), v[echoTSLen:])
}

// unsafeMethod reports whether c is a method whose request the Unsafe
// check covers.
func unsafeMethod(c coap.Code) bool {
	switch c {
	case coap.POST, coap.PUT, coap.DELETE, coap.FETCH, coap.PATCH, coap.IPATCH:
		return true
	}
	return false
}

// echoChallenge answers the request in w.in with 4.01 Unauthorized and a
// fresh Echo value (RFC 9175 §2.3); the response is small, so it is never
// challenged itself.
func (w *worker) echoChallenge(peer netip.AddrPort) {
	w.e.stats.echoChallenges.Add(1)
	rw := &w.rw
	rw.reset(&w.in, peer)
	rw.SetCode(coap.Unauthorized)
	rw.msg.SetOption(coap.Echo, w.issueEcho(peer))
	w.echoOK = true
	w.respond(peer)
}
