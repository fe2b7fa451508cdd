package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// Handler handles one received message. The message and its slices are
// valid only during the call: call Clone to keep them. Handlers run one at
// a time, in the order messages arrived, on the client's delivery
// goroutine; a slow handler stops the client reading (backpressure) but not
// its keepalive. Because the client stops reading, a handler must not wait
// for something only the broker's next packets bring: a QoS 1/2 Publish
// waiting for its acknowledgement, or Subscribe. Publish with a short
// context, with Config.ReturnWhenStored, or from another goroutine.
type Handler func(m *mqtt.Publish)

// Client is an MQTT 3.1.1 / 5.0 client with store-and-forward. It is safe
// for concurrent use.
//
// Once started (Connect or Start), it runs until Close: a supervisor
// goroutine that dials and reconnects with backoff, a delivery goroutine
// for handlers, and per connection a reader and a writer goroutine. Close
// stops them all and waits for them.
type Client struct {
	cfg      Config
	log      *slog.Logger
	store    Store
	ownStore bool

	startOnce sync.Once
	closeOnce sync.Once
	closing   chan struct{}
	wg        sync.WaitGroup
	firstOnce sync.Once
	first     chan struct{}
	firstErr  error

	seq atomic.Uint64

	mu        sync.Mutex
	waiters   map[uint64]*waiter
	inflight  map[mqtt.PacketID]*flight
	nflight   int
	flightBuf []*flight // free list
	idUsed    [1024]uint64
	nextID    uint16
	window    int
	order     uint64
	cn        *conn // current connection, nil while offline
	subReqs   map[mqtt.PacketID]*subReq
	subs      []*subEntry // active subscriptions, for resubscription
	clientID  string
	srvProps  mqtt.Properties
	connected bool
	hadConn   bool

	cursor  uint64 // next store key to look at; writer-owned
	peekKey uint64 // key of the QoS 1/2 record in the writer's buffer that
	// waits for window space (0: none); writer-owned
	sessGen atomic.Uint64

	wmu       sync.Mutex
	wcn       *conn // connection accepting writes
	out       []byte
	spaceWait int
	space     chan struct{}
	wake      chan struct{}

	hmu  sync.RWMutex
	trie mqtt.Trie[*subEntry]

	dmu      sync.Mutex // deletions for the deleter goroutine
	delQueue []uint64
	delWake  chan struct{}
	delSync  bool // the store deletes cheaply: delete inline

	imu     sync.Mutex
	inQoS2  map[mqtt.PacketID]uint8 // 1: being handled, 2: PUBREC sent
	inQoS1  int                     // QoS 1 PUBLISHes received on this connection, not yet acknowledged
	inGen   uint64                  // counts connections, for inQoS1
	free    chan *delivery
	work    chan *delivery
	recPool sync.Pool
	wPool   sync.Pool

	st struct {
		sent, acked, resent, queued, dropped, reconnects, received, connects atomic.Uint64
	}
}

type waiter struct {
	ch chan error
}

type flight struct {
	key   uint64
	seq   uint64
	id    mqtt.PacketID
	qos   uint8
	state uint8
	order uint64
	rec   []byte
}

// New returns a client for cfg without connecting. Any QoS 1/2 state in
// cfg.Store (left by an earlier process with the same client id) is loaded
// and will be sent when the client connects.
func New(cfg Config) (*Client, error) {
	if err := cfg.norm(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    cfg.Store,
		closing:  make(chan struct{}),
		first:    make(chan struct{}),
		waiters:  make(map[uint64]*waiter, 2*cfg.MaxInflight),
		inflight: make(map[mqtt.PacketID]*flight, cfg.MaxInflight),
		subReqs:  make(map[mqtt.PacketID]*subReq),
		wake:     make(chan struct{}, 1),
		delWake:  make(chan struct{}, 1),
		space:    make(chan struct{}),
		inQoS2:   make(map[mqtt.PacketID]uint8),
		clientID: cfg.ClientID,
		window:   cfg.MaxInflight,
		cursor:   1,
	}
	c.idUsed[0] = 1 // packet id 0 is never used
	if c.store == nil {
		c.store = NewMemStore(MemStoreConfig{})
		c.ownStore = true
	}
	_, c.delSync = c.store.(*MemStore)
	c.recPool.New = func() any { b := make([]byte, 0, 256); return &b }
	c.wPool.New = func() any { return &waiter{ch: make(chan error, 1)} }
	c.free = make(chan *delivery, cfg.DeliveryQueue)
	c.work = make(chan *delivery, cfg.DeliveryQueue)
	for range cfg.DeliveryQueue {
		c.free <- &delivery{}
	}
	if c.clientID == "" && cfg.Version != mqtt.V5 {
		var b [8]byte
		c.readRand(b[:])
		c.clientID = "edgekit-" + hex.EncodeToString(b[:])
	}
	if err := c.restore(); err != nil {
		return nil, err
	}
	return c, nil
}

// restore loads the in-flight QoS 2 state an earlier process left in the
// store and continues the sequence numbers.
func (c *Client) restore() error {
	var buf []byte
	var maxSeq uint64
	var from uint64 = 1
	for {
		key, rec, err := c.store.Next(from, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		buf = rec
		from = key + 1
		h, err := parseRec(rec)
		if err != nil {
			c.log.Warn("mqtt/client: skipping an invalid store record", "key", key)
			_ = c.store.Delete(context.Background(), []uint64{key})
			continue
		}
		maxSeq = max(maxSeq, h.seq)
		if h.state == stQueued {
			continue
		}
		if c.idInUse(h.id) {
			// Two records for one message (a crash between a Replace's
			// append and its delete): the later one wins.
			for _, f := range c.inflight {
				if f.id == h.id && f.seq == h.seq {
					_ = c.store.Delete(context.Background(), []uint64{f.key})
					f.key, f.state, f.rec = key, h.state, append(f.rec[:0], rec...)
				}
			}
			continue
		}
		f := &flight{key: key, seq: h.seq, id: h.id, qos: h.qos, state: h.state, order: h.seq, rec: append([]byte(nil), rec...)}
		c.markID(h.id)
		c.inflight[h.id] = f
		c.nflight++
	}
	c.seq.Store(maxSeq)
	c.order = maxSeq // restored flights are ordered by their sequence numbers
	if c.nflight > 0 {
		c.log.Info("mqtt/client: resuming in-flight messages from the store", "count", c.nflight)
	}
	return nil
}

func (c *Client) readRand(b []byte) {
	r := c.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b); err != nil {
		clear(b)
	}
}

// Start starts the client's goroutines, which connect and reconnect in the
// background, and returns at once.
func (c *Client) Start() {
	if c.isClosing() {
		return
	}
	c.startOnce.Do(func() {
		c.wg.Add(3)
		go c.supervise()
		go c.deliverLoop()
		go c.deleteLoop()
	})
}

// Connect starts the client (see Start) and waits for the outcome of its
// first connection attempt: nil once a CONNACK accepted it, or the error of
// that attempt (a *ReasonError for a refusal). After an error the client
// keeps trying in the background until Close; messages published meanwhile
// are queued in the store.
func (c *Client) Connect(ctx context.Context) error {
	c.Start()
	select {
	case <-c.first:
		return c.firstErr
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closing:
		return ErrClosed
	}
}

func (c *Client) firstResult(err error) {
	c.firstOnce.Do(func() {
		c.firstErr = err
		close(c.first)
	})
}

// Close disconnects (sending DISCONNECT if connected), stops every
// goroutine the client started and waits for them. Publish calls waiting
// for acknowledgement return ErrClosed; their messages stay in the store.
// A store the client created is closed; a caller's store is not.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.wg.Wait()
		c.mu.Lock()
		ws := c.waiters
		c.waiters = map[uint64]*waiter{}
		reqs := c.subReqs
		c.subReqs = map[mqtt.PacketID]*subReq{}
		c.mu.Unlock()
		for _, w := range ws {
			w.ch <- ErrClosed
		}
		for _, r := range reqs {
			if r.done != nil {
				r.done <- subResult{err: ErrClosed}
			}
		}
		if c.ownStore {
			_ = c.store.Close()
		}
	})
	return nil
}

func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// Stats is a snapshot of a client's counters and gauges.
type Stats struct {
	Sent       uint64 // PUBLISH packets sent (first transmissions)
	Acked      uint64 // QoS 1/2 messages acknowledged by the broker
	Resent     uint64 // PUBLISH and PUBREL packets sent again after a reconnect
	Queued     uint64 // messages put in the store
	Dropped    uint64 // messages dropped: expired, refused, or QoS 0 by the store's policy
	Reconnects uint64 // connections after the first
	Received   uint64 // PUBLISH packets received
	Inflight   int    // QoS 1/2 messages awaiting acknowledgement
	Stored     int    // records in the store
	Connected  bool
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	inflight, connected := c.nflight, c.connected
	c.mu.Unlock()
	ss := c.store.Stats()
	return Stats{
		Sent: c.st.sent.Load(), Acked: c.st.acked.Load(), Resent: c.st.resent.Load(),
		Queued: c.st.queued.Load(), Dropped: c.st.dropped.Load() + ss.Dropped,
		Reconnects: c.st.reconnects.Load(), Received: c.st.received.Load(),
		Inflight: inflight, Stored: ss.Records, Connected: connected,
	}
}

// ServerProperties returns a copy of the CONNACK properties of the current
// or last connection (MQTT 5), including Response Information when
// Config.ConnectProps requested it.
func (c *Client) ServerProperties() mqtt.Properties {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srvProps.Clone()
}

// Reauthenticate starts MQTT 5 re-authentication (§4.12.1) on the current
// connection with Config.Auth: it sends AUTH (Re-authenticate) with the
// data of Auth.Start; the broker's AUTH packets go to Auth.Continue and its
// final AUTH (Success) to Auth.Done. A broker refusing it disconnects.
// It returns once the AUTH is queued, or ErrNotConnected.
func (c *Client) Reauthenticate() error {
	if c.cfg.Auth == nil {
		return errors.Join(ErrConfig, errors.New("mqtt/client: no Authenticator"))
	}
	data, err := c.cfg.Auth.Start()
	if err != nil {
		return err
	}
	a := mqtt.Auth{Version: mqtt.V5, Code: mqtt.ReAuthenticate}
	a.Props.SetBytes(mqtt.PropAuthMethod, []byte(c.cfg.Auth.Method()))
	if data != nil {
		a.Props.SetBytes(mqtt.PropAuthData, data)
	}
	b, err := a.AppendBinary(nil)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	if c.wcn == nil {
		c.wmu.Unlock()
		return ErrNotConnected
	}
	c.out = append(c.out, b...)
	c.wmu.Unlock()
	c.kick()
	return nil
}

// ClientID returns the client identifier in use (the broker's assigned
// one under MQTT 5 with an empty Config.ClientID, once connected).
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

// Publish sends p as its QoS requires and returns: for QoS 0 once it is
// handed to the connection (or queued in the store while offline), for
// QoS 1 and 2 once the broker acknowledged it (PUBACK, PUBCOMP), or, with
// Config.ReturnWhenStored, once the store holds it. p is not retained or
// modified; its Version, Dup and ID are ignored, and the Topic Alias
// property belongs to the client. If ctx ends first, Publish returns
// ctx.Err() but a message already queued is still delivered.
//
// Publish allocates nothing in the steady state.
func (c *Client) Publish(ctx context.Context, p *mqtt.Publish) error {
	if c.isClosing() {
		return ErrClosed
	}
	if p.QoS > 2 {
		return ErrQoS
	}
	if p.Props.Present.Has(mqtt.PropTopicAlias) {
		return ErrTopicAlias
	}
	if err := mqtt.CheckTopicName(p.Topic); err != nil {
		return err
	}
	maxOut := mqtt.MaxRemainingLength + 5
	c.mu.Lock()
	cn := c.cn
	srv := &c.srvProps
	if srv.Present.Has(mqtt.PropMaxPacketSize) {
		maxOut = int(srv.MaxPacketSize)
	}
	if c.connected {
		if srv.Present.Has(mqtt.PropMaxQoS) && p.QoS > srv.MaxQoS {
			c.mu.Unlock()
			return ErrQoS
		}
		if p.Retain && srv.Present.Has(mqtt.PropRetainAvailable) && srv.RetainAvailable == 0 {
			c.mu.Unlock()
			return ErrRetain
		}
	}
	c.mu.Unlock()

	if p.QoS == 0 && cn != nil {
		err := c.publishQoS0(ctx, cn, p)
		if err != ErrNotConnected {
			return err
		}
	}
	if p.QoS == 0 && c.cfg.DropQoS0Offline {
		c.st.dropped.Add(1)
		return ErrNotConnected
	}

	bp := c.recPool.Get().(*[]byte)
	defer c.recPool.Put(bp)
	seq := c.seq.Add(1)
	pub := *p
	pub.Version = c.cfg.Version
	pub.Dup = false
	pub.ID = 0
	if pub.QoS > 0 {
		pub.ID = 1 // placeholder, set when sent
	}
	if c.cfg.Version != mqtt.V5 {
		pub.Props = mqtt.Properties{}
	}
	rec := appendRecHeader((*bp)[:0], recHeader{version: c.cfg.Version, qos: p.QoS, seq: seq, created: c.cfg.Clock.Now().UnixMilli()})
	rec, err := pub.AppendBinary(rec)
	*bp = rec
	if err != nil {
		return err
	}
	if len(rec)-recHdr > maxOut {
		return ErrTooLarge
	}

	var w *waiter
	if p.QoS > 0 && !c.cfg.ReturnWhenStored {
		w = c.wPool.Get().(*waiter)
		c.mu.Lock()
		c.waiters[seq] = w
		c.mu.Unlock()
	}
	if _, err := c.store.Append(ctx, rec, p.QoS); err != nil {
		if w != nil {
			c.mu.Lock()
			delete(c.waiters, seq)
			c.mu.Unlock()
			c.wPool.Put(w)
		}
		return err
	}
	c.st.queued.Add(1)
	c.kick()
	if w == nil {
		return nil
	}
	select {
	case err := <-w.ch:
		c.wPool.Put(w)
		return err
	case <-ctx.Done():
	case <-c.closing:
	}
	c.mu.Lock()
	if c.waiters[seq] == w {
		delete(c.waiters, seq)
		c.mu.Unlock()
		c.wPool.Put(w)
	} else {
		c.mu.Unlock()
		err := <-w.ch // completed meanwhile
		c.wPool.Put(w)
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ErrClosed
}

// complete reports the outcome of the message seq to its publisher.
func (c *Client) complete(seq uint64, err error) {
	c.mu.Lock()
	w := c.waiters[seq]
	if w != nil {
		delete(c.waiters, seq)
	}
	c.mu.Unlock()
	if w != nil {
		w.ch <- err
	}
}

// deleteKeys deletes acknowledged records from the store: inline for a
// MemStore, else through the deleter goroutine, so that a durable store's
// fsync does not hold up the reader and deletions batch up meanwhile. A
// deletion lost in a crash only makes the message be sent again.
func (c *Client) deleteKeys(keys []uint64) {
	if len(keys) == 0 {
		return
	}
	if c.delSync {
		_ = c.store.Delete(context.Background(), keys)
		return
	}
	c.dmu.Lock()
	c.delQueue = append(c.delQueue, keys...)
	c.dmu.Unlock()
	select {
	case c.delWake <- struct{}{}:
	default:
	}
}

// deleteLoop runs the deletions deleteKeys queues, until Close, and then
// the last of them.
func (c *Client) deleteLoop() {
	defer c.wg.Done()
	var batch []uint64
	for {
		closing := false
		select {
		case <-c.delWake:
		case <-c.closing:
			closing = true
		}
		c.dmu.Lock()
		batch, c.delQueue = c.delQueue, batch[:0]
		c.dmu.Unlock()
		if len(batch) > 0 {
			if err := c.store.Delete(context.Background(), batch); err != nil {
				c.log.Error("mqtt/client: deleting acknowledged messages from the store", "err", err)
			}
		}
		if closing {
			return
		}
	}
}

// kick wakes the writer.
func (c *Client) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// queueOut appends an encoded control packet for the writer.
func (c *Client) queueOut(pkt []byte) {
	c.wmu.Lock()
	c.out = append(c.out, pkt...)
	c.wmu.Unlock()
	c.kick()
}

// idInUse, markID, freeID and allocID manage packet identifiers; c.mu is
// held.
func (c *Client) idInUse(id mqtt.PacketID) bool { return c.idUsed[id>>6]&(1<<(id&63)) != 0 }
func (c *Client) markID(id mqtt.PacketID)       { c.idUsed[id>>6] |= 1 << (id & 63) }
func (c *Client) freeID(id mqtt.PacketID) {
	if id != 0 {
		c.idUsed[id>>6] &^= 1 << (id & 63)
	}
}
func (c *Client) allocID() (mqtt.PacketID, bool) {
	for range 65536 {
		c.nextID++
		id := mqtt.PacketID(c.nextID)
		if id != 0 && !c.idInUse(id) {
			c.markID(id)
			return id, true
		}
	}
	return 0, false
}

// supervise dials, runs connections and reconnects until Close.
func (c *Client) supervise() {
	defer c.wg.Done()
	attempt := 0
	for {
		if c.isClosing() {
			c.firstResult(ErrClosed)
			return
		}
		cn, ack, err := c.dial()
		if err != nil {
			c.firstResult(err)
			c.log.Warn("mqtt/client: connect failed", "attempt", attempt+1, "err", err)
		} else {
			attempt = 0
			c.runConn(cn, ack)
		}
		if c.isClosing() {
			c.firstResult(ErrClosed)
			return
		}
		d := c.backoff(attempt)
		attempt++
		t := c.cfg.Clock.NewTimer(d)
		select {
		case <-t.C():
		case <-c.closing:
			t.Stop()
		}
	}
}

// backoff returns the delay before reconnect attempt n (0-based):
// exponential from MinBackoff to MaxBackoff with "equal jitter", a random
// value in [d/2, d].
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 0; i < n && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	var b [8]byte
	c.readRand(b[:])
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(binary.LittleEndian.Uint64(b[:])%uint64(half+1))
}

// resetForSession prepares the session state for a new connection: with the
// session present everything in flight is resent with DUP; without it
// PUBLISHes are sent again as new and PUBREL-state messages (which the
// broker had accepted) are completed.
func (c *Client) resetForSession(sessionPresent bool) {
	// Receive Maximum counts per connection: the broker resends what we
	// had not acknowledged (with DUP) and counts it again. QoS 2 state
	// belongs to the session and stays while it does.
	c.imu.Lock()
	c.inQoS1 = 0
	c.inGen++
	if !sessionPresent {
		clear(c.inQoS2)
	}
	c.imu.Unlock()
	if sessionPresent {
		return
	}
	c.sessGen.Add(1)
	var done []uint64
	var keys []uint64
	c.mu.Lock()
	for id, f := range c.inflight {
		if f.state == stPubrel {
			delete(c.inflight, id)
			c.nflight--
			c.freeID(id)
			done = append(done, f.seq)
			keys = append(keys, f.key)
		}
	}
	c.mu.Unlock()
	if len(keys) > 0 {
		c.log.Warn("mqtt/client: session not present; QoS 2 messages the broker had received are considered delivered", "count", len(keys))
		c.deleteKeys(keys)
	}
	for _, s := range done {
		c.st.acked.Add(1)
		c.complete(s, nil)
	}
}

// sortedFlights returns the in-flight messages in the order they were
// first sent; c.mu is held.
func (c *Client) sortedFlights() []*flight {
	fs := make([]*flight, 0, len(c.inflight))
	for _, f := range c.inflight {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *flight) int {
		switch {
		case a.order < b.order:
			return -1
		case a.order > b.order:
			return 1
		}
		return 0
	})
	return fs
}

var errNoID = errors.New("mqtt/client: no free packet identifier")
