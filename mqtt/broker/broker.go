package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/mqtt"
)

// Broker is an MQTT 3.1.1 and 5.0 server. Create one with New, serve
// listeners with Serve or single connections with ServeConn (or Pipe for an
// in-process client), and stop it with Close.
//
// A Broker is safe for concurrent use. It starts a reading goroutine per
// connection, a writing goroutine per connection only while there is
// something to write, and one goroutine for $SYS statistics; Close stops and
// waits for all of them.
type Broker struct {
	cfg Config
	log *slog.Logger

	mu       sync.RWMutex
	sessions map[string]*session
	subs     mqtt.Trie[*entry]
	groups   map[string]*shareGroup
	nsubs    int
	closed   bool
	lns      map[net.Listener]struct{}
	conns    map[*conn]struct{}

	rmu      sync.Mutex
	retained map[string]*message
	rbytes   int

	rndMu sync.Mutex
	rnd   *rand.Rand

	decoded sync.Pool // *mqtt.Decoded for goroutine-mode connections

	evOnce sync.Once
	ev     atomic.Pointer[eventLoop]

	seq     atomic.Uint64
	nconns  atomic.Int64
	wg      sync.WaitGroup
	stop    chan struct{}
	started time.Time

	st counters
}

type counters struct {
	connsTotal, refused, packetErrors  atomic.Uint64
	msgsIn, msgsOut, bytesIn, bytesOut atomic.Uint64
	dropQoS0, dropOldest, dropExpired  atomic.Uint64
	dropTooLarge, denied               atomic.Uint64
}

// Stats is a snapshot of the broker's counters and gauges.
type Stats struct {
	EventLoop        bool   // connections from Serve are read by the epoll event loop
	Connections      int64  // open connections
	ConnectionsTotal uint64 // accepted since New
	Refused          uint64 // connections refused (limits, hooks, bad CONNECT)
	Sessions         int    // sessions kept, connected or not
	Subscriptions    int
	Retained         int
	RetainedBytes    int
	MessagesReceived uint64 // PUBLISH packets accepted from clients
	MessagesSent     uint64 // PUBLISH packets written to clients
	BytesReceived    uint64
	BytesSent        uint64
	DroppedQoS0      uint64 // queue full: QoS 0 messages dropped
	DroppedOldest    uint64 // queue full: oldest messages dropped
	DroppedExpired   uint64 // Message Expiry Interval passed before delivery
	DroppedTooLarge  uint64 // larger than the client's Maximum Packet Size
	Denied           uint64 // publishes or subscriptions refused by hooks or limits
	PacketErrors     uint64 // malformed packets and protocol violations
}

// ClientStats describes one session.
type ClientStats struct {
	Connected     bool
	Queued        int
	QueuedBytes   int
	Inflight      int
	Subscriptions int
	DroppedQoS0   uint64
	DroppedOldest uint64
}

// New returns a broker configured by cfg (see Config for the defaults),
// restoring what cfg.Store holds.
func New(cfg Config) (*Broker, error) {
	cfg.norm()
	seed := cfg.Seed
	if seed == 0 {
		seed = uint64(cfg.Now().UnixNano())
	}
	b := &Broker{
		cfg:      cfg,
		log:      cfg.Logger,
		sessions: make(map[string]*session),
		groups:   make(map[string]*shareGroup),
		lns:      make(map[net.Listener]struct{}),
		conns:    make(map[*conn]struct{}),
		retained: make(map[string]*message),
		rnd:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stop:     make(chan struct{}),
		started:  cfg.Now(),
	}
	b.decoded.New = func() any { return new(mqtt.Decoded) }
	if cfg.EventLoop == EventLoopRequire {
		if b.eventLoop() == nil {
			_, err := sys.NewEpoll(1)
			return nil, fmt.Errorf("broker: event loop: %w", err)
		}
	}
	if cfg.Store != nil {
		if err := b.restore(); err != nil {
			return nil, err
		}
	}
	if cfg.SysInterval > 0 {
		b.wg.Add(1)
		go b.sysLoop()
	}
	return b, nil
}

// Stats returns a snapshot of the broker's counters.
func (b *Broker) Stats() Stats {
	b.mu.RLock()
	ns, nsub := len(b.sessions), b.nsubs
	b.mu.RUnlock()
	b.rmu.Lock()
	nr, rb := len(b.retained), b.rbytes
	b.rmu.Unlock()
	return Stats{
		EventLoop:        b.ev.Load() != nil,
		Connections:      b.nconns.Load(),
		ConnectionsTotal: b.st.connsTotal.Load(),
		Refused:          b.st.refused.Load(),
		Sessions:         ns,
		Subscriptions:    nsub,
		Retained:         nr,
		RetainedBytes:    rb,
		MessagesReceived: b.st.msgsIn.Load(),
		MessagesSent:     b.st.msgsOut.Load(),
		BytesReceived:    b.st.bytesIn.Load(),
		BytesSent:        b.st.bytesOut.Load(),
		DroppedQoS0:      b.st.dropQoS0.Load(),
		DroppedOldest:    b.st.dropOldest.Load(),
		DroppedExpired:   b.st.dropExpired.Load(),
		DroppedTooLarge:  b.st.dropTooLarge.Load(),
		Denied:           b.st.denied.Load(),
		PacketErrors:     b.st.packetErrors.Load(),
	}
}

// ClientStats reports the session of client id.
func (b *Broker) ClientStats(id string) (ClientStats, bool) {
	b.mu.RLock()
	s := b.sessions[id]
	var nsub int
	if s != nil {
		nsub = len(s.subs)
	}
	b.mu.RUnlock()
	if s == nil {
		return ClientStats{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ClientStats{
		Connected:     s.conn != nil,
		Queued:        s.qlen(),
		QueuedBytes:   s.qbytes,
		Inflight:      len(s.inflight),
		Subscriptions: nsub,
		DroppedQoS0:   s.dropsQoS0,
		DroppedOldest: s.dropsOldest,
	}, true
}

// Serve accepts connections on l and serves each on its own goroutine
// until l fails or the broker is closed; it closes l before returning.
// It returns ErrClosed after Close.
func (b *Broker) Serve(l net.Listener) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		l.Close()
		return ErrClosed
	}
	b.lns[l] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.lns, l)
		b.mu.Unlock()
		l.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if b.isClosed() {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
				case <-b.stop:
					return ErrClosed
				}
				continue
			}
			return err
		}
		backoff = 0
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.serve(nc, true)
		}()
	}
}

// isTemporary reports accept errors worth retrying (EMFILE and the like).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// ServeConn serves one client connection until it ends, then closes it.
// Any net.Conn works: TCP, TLS, a Unix socket, a WebSocket adapter, or one
// end of net.Pipe.
func (b *Broker) ServeConn(nc net.Conn) error {
	b.wg.Add(1)
	defer b.wg.Done()
	return b.serve(nc, false)
}

// Pipe returns the client end of an in-process connection served by the
// broker: no socket is involved. Closing it ends the connection.
func (b *Broker) Pipe() (net.Conn, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	cl, sv := net.Pipe()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.serve(sv, false)
	}()
	return cl, nil
}

func (b *Broker) isClosed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

// Close stops the listeners, disconnects every client (Server Shutting
// Down under MQTT 5) and waits for the broker's goroutines. Sessions stay in
// the Store, if any; Close does not close the Store.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	for l := range b.lns {
		l.Close()
	}
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	for _, s := range b.sessions {
		if s.expTimer != nil {
			s.expTimer.Stop()
		}
		if s.willTimer != nil {
			s.willTimer.Stop()
		}
	}
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.shutdown(mqtt.ServerShuttingDown)
		}()
	}
	wg.Wait()
	b.wg.Wait()
	return nil
}

// Publish routes a message from the application (not from a client) to the
// matching subscriptions, storing it if it is retained. p is not retained
// by the broker after Publish returns. Its Version is ignored: properties
// are taken as MQTT 5 properties.
func (b *Broker) Publish(ctx context.Context, p *mqtt.Publish) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	if mqtt.CheckTopicName(p.Topic) != nil || p.QoS > 2 || b.levels(p.Topic) > b.cfg.MaxTopicLevels {
		return ErrBadTopic
	}
	q := *p
	q.Version = mqtt.V5
	if h := b.cfg.Hooks.OnPublish; h != nil {
		if code := h(nil, &q); code.IsError() {
			return errors.New("broker: publish refused by hook: " + code.String())
		}
	}
	m := newMessage(&q, nil, b.cfg.Now())
	if q.Retain {
		if code := b.retain(m); code.IsError() {
			return errors.New("broker: retained message refused: " + code.String())
		}
	}
	var scratch []*entry
	b.route(m, &scratch)
	return nil
}

// levels counts the levels of a topic name or filter.
func (b *Broker) levels(t []byte) int {
	n := 1
	for _, c := range t {
		if c == '/' {
			n++
		}
	}
	return n
}

// retain stores or clears the retained message for m's topic (§3.3.1.3).
func (b *Broker) retain(m *message) mqtt.ReasonCode {
	key := string(m.topic)
	b.rmu.Lock()
	old := b.retained[key]
	if len(m.payload) == 0 {
		if old != nil {
			delete(b.retained, key)
			b.rbytes -= old.size
		}
		b.rmu.Unlock()
		if old != nil {
			b.storeDelete(retainKey(key))
		}
		return mqtt.Success
	}
	size := m.size
	if old != nil {
		size -= old.size
	}
	if (old == nil && len(b.retained) >= b.cfg.MaxRetained) || b.rbytes+size > b.cfg.MaxRetainedBytes {
		b.rmu.Unlock()
		b.st.denied.Add(1)
		return mqtt.QuotaExceeded
	}
	rm := *m
	rm.from = nil
	rm.retain = true
	b.retained[key] = &rm
	b.rbytes += size
	b.rmu.Unlock()
	b.storeRetained(&rm)
	return mqtt.Success
}

// route hands m to every matching subscription and reports how many
// sessions it reached. Overlapping subscriptions of one session give one
// copy at the highest QoS with every subscription identifier (§3.3.4).
func (b *Broker) route(m *message, scratch *[]*entry) int {
	b.mu.RLock()
	ents := b.subs.Match(m.topic, (*scratch)[:0])
	*scratch = ents
	n := 0
	var multi []*subscription
	for _, e := range ents {
		if e.grp != nil {
			if sub := b.pickMember(e.grp); sub != nil {
				n++
				sub.s.deliver(m, sub.qos, sub.rap, sub.id)
			}
			continue
		}
		sub := e.sub
		if sub.noLocal && sub.s == m.from {
			continue
		}
		if len(sub.s.subs) > 1 {
			multi = append(multi, sub)
			continue
		}
		n++
		sub.s.deliver(m, sub.qos, sub.rap, sub.id)
	}
	if len(multi) > 0 {
		slices.SortFunc(multi, func(x, y *subscription) int {
			switch {
			case x.s.seq < y.s.seq:
				return -1
			case x.s.seq > y.s.seq:
				return 1
			}
			return 0
		})
		for i := 0; i < len(multi); {
			j := i + 1
			for j < len(multi) && multi[j].s == multi[i].s {
				j++
			}
			if j == i+1 {
				sub := multi[i]
				sub.s.deliver(m, sub.qos, sub.rap, sub.id)
			} else {
				var qos uint8
				rap := false
				var ids []uint32
				for _, sub := range multi[i:j] {
					qos = max(qos, sub.qos)
					rap = rap || sub.rap
					if sub.id != 0 {
						ids = append(ids, sub.id)
					}
				}
				multi[i].s.deliverIDs(m, qos, rap, ids)
			}
			n++
			i = j
		}
	}
	b.mu.RUnlock()
	for i := range ents {
		ents[i] = nil
	}
	return n
}

// pickMember chooses the member of a shared group to receive the next
// message, preferring connected members. Called with b.mu held (read).
func (b *Broker) pickMember(g *shareGroup) *subscription {
	n := len(g.members)
	if n == 0 {
		return nil
	}
	var start int
	if b.cfg.Shared == SharedRandom {
		b.rndMu.Lock()
		start = b.rnd.IntN(n)
		b.rndMu.Unlock()
	} else {
		start = int(atomic.AddUint32(&g.next, 1)-1) % n
	}
	for i := range n {
		sub := g.members[(start+i)%n]
		sub.s.mu.Lock()
		on := sub.s.conn != nil
		sub.s.mu.Unlock()
		if on {
			return sub
		}
	}
	return g.members[start]
}

// deliver queues m for s under one subscription.
func (s *session) deliver(m *message, qos uint8, rap bool, id uint32) {
	var ids []uint32
	if id != 0 {
		ids = []uint32{id}
	}
	s.deliverIDs(m, qos, rap, ids)
}

// deliverIDs queues m for s at min(m.qos, qos), applying the queue bounds
// and the drop policy: the oldest QoS 0 message first, then the oldest.
func (s *session) deliverIDs(m *message, qos uint8, rap bool, ids []uint32) {
	qos = min(qos, m.qos)
	b := s.b
	s.mu.Lock()
	if s.conn == nil && qos == 0 {
		s.mu.Unlock()
		return
	}
	for s.qlen() > 0 && (s.qlen() >= b.cfg.MaxQueuedMessages || s.qbytes+m.size > b.cfg.MaxQueuedBytes) {
		idx := -1
		for i := range s.qlen() {
			if s.q[s.qh+i].qos == 0 {
				idx = i
				break
			}
		}
		if idx < 0 && qos == 0 {
			s.dropsQoS0++
			b.st.dropQoS0.Add(1)
			s.mu.Unlock()
			return
		}
		var o outMsg
		if idx >= 0 {
			o = s.removeAt(idx)
			s.dropsQoS0++
			b.st.dropQoS0.Add(1)
		} else {
			o = s.popFront()
			s.dropsOldest++
			b.st.dropOldest.Add(1)
		}
		if o.key != 0 {
			b.storeDelete(queueKey(s.id, o.key))
		}
	}
	o := outMsg{m: m, qos: qos, retain: rap && m.retain, subIDs: ids}
	if qos > 0 && s.expiry > 0 && b.cfg.Store != nil {
		s.storeSeq++
		o.key = s.storeSeq
		b.storeOut(s, &o)
	}
	s.q = append(s.q, o)
	s.qbytes += m.size
	s.kick()
	s.mu.Unlock()
}

// kick starts the connection's writer if it is not running. Called with
// s.mu held.
func (s *session) kick() {
	c := s.conn
	if c == nil || c.writing || c.dead {
		return
	}
	c.writing = true
	s.b.wg.Add(1)
	go c.writeLoop()
}

// newSessionLocked creates the session of id. Called with b.mu held.
func (b *Broker) newSessionLocked(id string) *session {
	s := &session{b: b, id: id, seq: b.seq.Add(1), subs: make(map[string]*subscription)}
	b.sessions[id] = s
	return s
}

// removeSessionLocked forgets s: its subscriptions, its messages and its
// stored state. Called with b.mu held.
func (b *Broker) removeSessionLocked(s *session) {
	if s.gone {
		return
	}
	s.gone = true
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	for _, sub := range s.subs {
		b.unsubscribeLocked(sub)
	}
	if s.expTimer != nil {
		s.expTimer.Stop()
	}
	if b.cfg.Store != nil {
		s.mu.Lock()
		var keys [][]byte
		for i := range s.qlen() {
			if k := s.q[s.qh+i].key; k != 0 {
				keys = append(keys, queueKey(s.id, k))
			}
		}
		for _, o := range s.inflight {
			if o.key != 0 {
				keys = append(keys, queueKey(s.id, o.key))
			}
		}
		for id := range s.inQoS2 {
			keys = append(keys, inKey(s.id, id))
		}
		s.q, s.qh, s.inflight = nil, 0, nil
		s.mu.Unlock()
		for _, k := range keys {
			b.storeDelete(k)
		}
		b.storeDelete(sessionKey(s.id))
	}
}

// subscribeLocked adds or replaces a subscription of s and reports whether
// it existed. Called with b.mu held.
func (b *Broker) subscribeLocked(s *session, sub *subscription) (existed bool, err error) {
	if old := s.subs[sub.filter]; old != nil {
		old.qos, old.noLocal, old.rap, old.rh, old.id = sub.qos, sub.noLocal, sub.rap, sub.rh, sub.id
		return true, nil
	}
	if sub.group != "" {
		g := b.groups[sub.filter]
		if g == nil {
			g = &shareGroup{key: sub.filter}
			g.ent = &entry{grp: g}
			if err := b.subs.Add([]byte(sub.filter), g.ent); err != nil {
				return false, err
			}
			b.groups[sub.filter] = g
		}
		g.members = append(g.members, sub)
	} else {
		sub.ent = &entry{sub: sub}
		if err := b.subs.Add([]byte(sub.filter), sub.ent); err != nil {
			return false, err
		}
	}
	s.subs[sub.filter] = sub
	b.nsubs++
	return false, nil
}

// unsubscribeLocked removes sub. Called with b.mu held.
func (b *Broker) unsubscribeLocked(sub *subscription) {
	s := sub.s
	if s.subs[sub.filter] != sub {
		return
	}
	delete(s.subs, sub.filter)
	b.nsubs--
	if sub.group != "" {
		g := b.groups[sub.filter]
		if g == nil {
			return
		}
		if i := slices.Index(g.members, sub); i >= 0 {
			g.members = slices.Delete(g.members, i, i+1)
		}
		if len(g.members) == 0 {
			b.subs.Remove([]byte(sub.filter), g.ent)
			delete(b.groups, sub.filter)
		}
		return
	}
	b.subs.Remove([]byte(sub.filter), sub.ent)
}

// assignID returns a fresh client identifier (§3.1.3.1).
func (b *Broker) assignID() string {
	b.rndMu.Lock()
	v := b.rnd.Uint64()
	b.rndMu.Unlock()
	return "auto-" + strconv.FormatUint(v, 36)
}

// matchingRetained returns the retained messages whose topics match filter.
func (b *Broker) matchingRetained(filter []byte, now int64) []*message {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	var out []*message
	for _, m := range b.retained {
		if m.expired(now) {
			continue
		}
		if mqtt.MatchTopic(filter, m.topic) {
			out = append(out, m)
		}
	}
	return out
}
