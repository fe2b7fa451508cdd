package endpoint

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// exchange is a client request waiting for its response, found by token.
type exchange struct {
	token   coap.Token
	peer    netip.AddrPort
	anyPeer bool // multicast: responses come from any address
	ch      chan result
	obs     *Observation // notifications go here instead of ch
}

type result struct {
	msg  *coap.Message
	peer netip.AddrPort
	err  error
}

func (ex *exchange) deliver(m *coap.Message, peer netip.AddrPort) {
	if ex.obs != nil {
		ex.obs.notify(m, peer)
		return
	}
	select {
	case ex.ch <- result{msg: m.Clone(), peer: peer}:
	default: // a duplicate or a surplus multicast answer
	}
}

func (ex *exchange) fail(err error) {
	if ex.obs != nil {
		ex.obs.end(err)
		return
	}
	select {
	case ex.ch <- result{err: err}:
	default:
	}
}

type tokenShard struct {
	mu sync.Mutex
	m  map[coap.Token]*exchange
}

func tokenShardOf(t coap.Token) int { return int(t.Uint64()) & (nShards - 1) }

func (e *Endpoint) addToken(ex *exchange) {
	s := &e.tokens[tokenShardOf(ex.token)]
	s.mu.Lock()
	s.m[ex.token] = ex
	s.mu.Unlock()
}

func (e *Endpoint) removeToken(ex *exchange) {
	s := &e.tokens[tokenShardOf(ex.token)]
	s.mu.Lock()
	if s.m[ex.token] == ex {
		delete(s.m, ex.token)
	}
	s.mu.Unlock()
}

func (e *Endpoint) lookupToken(t coap.Token) *exchange {
	s := &e.tokens[tokenShardOf(t)]
	s.mu.Lock()
	ex := s.m[t]
	s.mu.Unlock()
	return ex
}

// midKey identifies a CON we sent, for matching its ACK or RST.
type midKey struct {
	peer netip.AddrPort
	mid  coap.MessageID
}

func (k midKey) shard() int { return int(uint16(k.mid)^k.peer.Port()) & (nShards - 1) }

type midShard struct {
	mu sync.Mutex
	m  map[midKey]*conTx
}

// txResult is how a CON transmission ended.
type txResult uint8

const (
	txAcked txResult = iota + 1
	txReset
	txTimeout
	txCancelled
)

// conTx is a Confirmable message being retransmitted until it is
// acknowledged (RFC 7252 §4.2, §4.8).
type conTx struct {
	e      *Endpoint
	key    midKey
	wire   []byte
	mu     sync.Mutex
	tries  int
	wait   time.Duration
	timer  Timer
	done   bool
	onDone func(txResult)
}

// startCON sends wire (a CON with message id mid, owned by the conTx from
// now on) and retransmits it with randomised, doubling timeouts until it
// is acknowledged, reset, cancelled, or MAX_RETRANSMIT is exhausted.
// onDone, if not nil, is called once with the outcome.
func (e *Endpoint) startCON(peer netip.AddrPort, mid coap.MessageID, wire []byte, onDone func(txResult)) *conTx {
	return e.startCONFrom(peer, mid, wire, onDone, 0, 0)
}

// startCONFrom is startCON continuing a replaced transmission's
// retransmission counter and timeout (RFC 7641 §4.5.2); wait 0 starts
// afresh.
func (e *Endpoint) startCONFrom(peer netip.AddrPort, mid coap.MessageID, wire []byte, onDone func(txResult), tries int, wait time.Duration) *conTx {
	tx := &conTx{e: e, key: midKey{peer, mid}, wire: wire, onDone: onDone, tries: tries, wait: wait}
	if wait == 0 {
		// §4.2: the initial timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT*ACK_RANDOM_FACTOR].
		tx.wait = time.Duration(float64(e.p.ACKTimeout) * (1 + e.randFloat()*(e.p.ACKRandomFactor-1)))
	}
	s := &e.mids[tx.key.shard()]
	s.mu.Lock()
	s.m[tx.key] = tx
	s.mu.Unlock()
	tx.mu.Lock()
	tx.timer = e.afterFunc(tx.wait, tx.fire)
	tx.mu.Unlock()
	_ = e.send(peer, wire)
	return tx
}

func (tx *conTx) fire() {
	e := tx.e
	tx.mu.Lock()
	if tx.done {
		tx.mu.Unlock()
		return
	}
	if tx.tries >= e.p.MaxRetransmit || e.closed.Load() {
		tx.mu.Unlock()
		e.stats.timeouts.Add(1)
		tx.finish(txTimeout)
		return
	}
	tx.tries++
	tx.wait *= 2
	tx.timer = e.afterFunc(tx.wait, tx.fire)
	tx.mu.Unlock()
	e.stats.retransmissions.Add(1)
	_ = e.send(tx.key.peer, tx.wire)
}

// finish ends the transmission once and reports r.
func (tx *conTx) finish(r txResult) {
	tx.mu.Lock()
	if tx.done {
		tx.mu.Unlock()
		return
	}
	tx.done = true
	if tx.timer != nil {
		tx.timer.Stop()
	}
	tx.mu.Unlock()
	s := &tx.e.mids[tx.key.shard()]
	s.mu.Lock()
	if s.m[tx.key] == tx {
		delete(s.m, tx.key)
	}
	s.mu.Unlock()
	if tx.onDone != nil {
		tx.onDone(r)
	}
}

func (e *Endpoint) takeTx(peer netip.AddrPort, mid coap.MessageID) *conTx {
	k := midKey{peer, mid}
	s := &e.mids[k.shard()]
	s.mu.Lock()
	tx := s.m[k]
	s.mu.Unlock()
	return tx
}

// onAck handles an ACK (empty or piggybacked) for a CON we sent.
func (e *Endpoint) onAck(peer netip.AddrPort, mid coap.MessageID) {
	if tx := e.takeTx(peer, mid); tx != nil {
		tx.finish(txAcked)
	}
}

// onReset handles an RST: for a CON we sent, or for a NON notification.
func (e *Endpoint) onReset(peer netip.AddrPort, mid coap.MessageID) {
	if tx := e.takeTx(peer, mid); tx != nil {
		tx.finish(txReset)
		return
	}
	e.obs.onReset(e, peer, mid)
}

// peerState counts a peer's outstanding requests for NSTART (§4.7).
type peerState struct {
	active  int
	waiters []chan struct{}
}

type peerShard struct {
	mu sync.Mutex
	m  map[netip.AddrPort]*peerState
}

func (e *Endpoint) acquire(ctx context.Context, peer netip.AddrPort) error {
	s := &e.peers[int(peer.Port())&(nShards-1)]
	s.mu.Lock()
	ps := s.m[peer]
	if ps == nil {
		ps = &peerState{}
		s.m[peer] = ps
	}
	if ps.active < e.p.NStart {
		ps.active++
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	ps.waiters = append(ps.waiters, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil // the slot was handed over
	case <-ctx.Done():
		s.mu.Lock()
		for i, c := range ps.waiters {
			if c == ch {
				ps.waiters = append(ps.waiters[:i], ps.waiters[i+1:]...)
				s.mu.Unlock()
				return ctx.Err()
			}
		}
		s.mu.Unlock()
		e.release(peer) // handed over just now: pass it on
		return ctx.Err()
	}
}

func (e *Endpoint) release(peer netip.AddrPort) {
	s := &e.peers[int(peer.Port())&(nShards-1)]
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.m[peer]
	if ps == nil {
		return
	}
	if len(ps.waiters) > 0 {
		ch := ps.waiters[0]
		ps.waiters = ps.waiters[1:]
		close(ch)
		return
	}
	ps.active--
	if ps.active <= 0 {
		delete(s.m, peer)
	}
}

// failAll ends every waiting exchange with err (on Close).
func (e *Endpoint) failAll(err error) {
	var txs []*conTx
	for i := range e.mids {
		s := &e.mids[i]
		s.mu.Lock()
		for _, tx := range s.m {
			txs = append(txs, tx)
		}
		s.mu.Unlock()
	}
	for _, tx := range txs {
		tx.finish(txCancelled)
	}
	var exs []*exchange
	for i := range e.tokens {
		s := &e.tokens[i]
		s.mu.Lock()
		for _, ex := range s.m {
			exs = append(exs, ex)
		}
		s.mu.Unlock()
	}
	for _, ex := range exs {
		ex.fail(err)
	}
}

// progress returns the retransmission counter and current timeout.
func (tx *conTx) progress() (int, time.Duration) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.tries, tx.wait
}

// isDone reports whether the transmission has ended.
func (tx *conTx) isDone() bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.done
}
