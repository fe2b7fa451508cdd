package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
	"github.com/edgekit/edgekit/mempool"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/broker"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
	"github.com/edgekit/edgekit/numa"
	"github.com/edgekit/edgekit/ringbuf"
	"github.com/edgekit/edgekit/sched"
	"github.com/edgekit/edgekit/uring"
)

// Sources of an ingest item.
const (
	srcCoAP byte = 'c'
	srcDTLS byte = 'd'
	srcMesh byte = 'm'
)

// Payload formats of an ingest item.
const (
	fmtPlain byte = iota
	fmtSenMLJSON
	fmtSenMLCBOR
)

// ingestItem is one received upload on its way from ingest to the
// normalisers: buf holds the device path and then the body.
type ingestItem struct {
	buf     *mempool.Buf
	pathLen int
	format  byte
	src     byte
	peer    netip.AddrPort
	at      int64 // unix nanoseconds of reception
	ep      int   // index of the receiving endpoint
}

// counters are the gateway's own statistics.
type counters struct {
	received      atomic.Uint64 // uploads accepted into the ring
	ringFull      atomic.Uint64 // uploads refused: ring full
	badRequest    atomic.Uint64 // uploads with a bad path or payload
	readings      atomic.Uint64 // readings normalised
	publishedLoc  atomic.Uint64 // readings published on the local broker
	publishedUp   atomic.Uint64 // readings handed to the uplink store
	uplinkErrors  atomic.Uint64 // uplink Publish errors
	localErrors   atomic.Uint64 // local broker Publish errors
	stateUpdates  atomic.Uint64 // retained device state messages
	deviceLimit   atomic.Uint64 // readings dropped: too many devices
	commands      atomic.Uint64 // commands received
	commandsOK    atomic.Uint64
	commandsFail  atomic.Uint64
	commandsBusy  atomic.Uint64 // commands refused: command queue full
	meshReadings  atomic.Uint64
	meshProvision atomic.Uint64 // mesh nodes provisioned
}

// Gateway wires the edgekit stacks together. It is safe for concurrent use;
// New starts nothing, Run starts every goroutine and Close stops them.
type Gateway struct {
	cfg Config
	log *slog.Logger

	pool   *mempool.Pool
	ring   *ringbuf.MPSC[ingestItem]
	work   *sched.Pool
	cmdQ   *ringbuf.MPMC[*command]
	broker *broker.Broker
	bstore *broker.FileStore
	up     *client.Client
	ustore client.Store

	eps       []*endpoint.Endpoint // ingest endpoints (one per CPU with steering)
	epKinds   []byte
	cmdEP     *endpoint.Endpoint // client endpoint for commands
	uconns    []*uring.Conn
	group     *numa.UDPGroup
	dtlsSrv   *dtls.Server
	mqttLn    net.Listener
	coapAddr  netip.AddrPort
	steering  string
	backend   string
	mesh      *meshSim
	demo      *demoSensors
	shadow    *shadow
	c         counters
	fwd       fwdCounters
	tasks     sync.Pool
	started   time.Time
	rates     rateSampler
	wg        sync.WaitGroup
	closeOnce sync.Once
	udp       []*net.UDPConn // the CoAP sockets, for a handover
	inh       *inherited
	handoverW *os.File
	ackStored bool
	running   atomic.Bool
	dispDone  chan struct{}
	stop      context.CancelFunc
	runCtx    context.Context
}

// New builds a gateway from cfg (already defaulted and validated) and opens
// its sockets and stores; Run starts it.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	return newGateway(cfg, log, nil)
}

// newGateway is New with sockets inherited from a predecessor (or nil).
func newGateway(cfg Config, log *slog.Logger, inh *inherited) (_ *Gateway, err error) {
	g := &Gateway{cfg: cfg, log: log, inh: inh, started: time.Now(), dispDone: make(chan struct{}), ackStored: cfg.Pipeline.Ack == "stored"}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	g.runCtx, g.stop = context.WithCancel(context.Background())
	g.shadow = newShadow(g)
	g.tasks.New = func() any {
		return &batchTask{g: g, items: make([]ingestItem, cfg.Pipeline.Batch), scratch: make([]byte, 0, 512)}
	}
	if g.pool, err = mempool.New(mempool.Config{MaxSize: 64 << 10}); err != nil {
		return nil, err
	}
	if g.ring, err = ringbuf.NewMPSC[ingestItem](ringbuf.Config{Capacity: cfg.Pipeline.Queue}); err != nil {
		return nil, fmt.Errorf("readings ring: %w", err)
	}
	if g.cmdQ, err = ringbuf.NewMPMC[*command](ringbuf.Config{Capacity: 256}); err != nil {
		return nil, err
	}
	if g.work, err = sched.NewPool(sched.PoolConfig{Workers: cfg.Pipeline.Workers, QueueSize: 1024,
		RealTimeQueueSize: 256, Logger: log}); err != nil {
		return nil, fmt.Errorf("worker pool: %w", err)
	}

	// The embedded broker.
	bcfg := broker.Config{MaxConnections: cfg.MQTT.MaxConnections, Logger: log.With("component", "broker"),
		Hooks: broker.Hooks{OnPublish: g.onLocalPublish}}
	if cfg.MQTT.DataDir != "" {
		if g.bstore, err = broker.NewFileStore(cfg.MQTT.DataDir, broker.FileStoreConfig{}); err != nil {
			return nil, fmt.Errorf("broker store: %w", err)
		}
		bcfg.Store = g.bstore
	}
	if g.broker, err = broker.New(bcfg); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if inh != nil && inh.mqtt != nil {
		g.mqttLn = inh.mqtt
	} else if cfg.MQTT.Listen != "" {
		if g.mqttLn, err = net.Listen("tcp", cfg.MQTT.Listen); err != nil {
			return nil, fmt.Errorf("mqtt.listen: %w", err)
		}
	}

	// The uplink with its store-and-forward log.
	if cfg.Uplink.Addr != "" {
		if err = g.openUplink(); err != nil {
			return nil, err
		}
	}

	// CoAP ingest.
	if cfg.CoAP.Listen != "" || (inh != nil && len(inh.coap) > 0) {
		if err = g.openCoAP(); err != nil {
			return nil, err
		}
	}
	if cfg.CoAP.DTLS.Listen != "" {
		if err = g.openDTLS(); err != nil {
			return nil, err
		}
	}
	if g.cmdEP, err = endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{Pool: g.pool, Logger: log}); err != nil {
		// Commands go out from the CoAP listen address's family; loopback is
		// the fallback for a gateway without CoAP ingest.
		return nil, fmt.Errorf("command endpoint: %w", err)
	}
	return g, nil
}

func (g *Gateway) openUplink() error {
	cfg := g.cfg.Uplink
	if cfg.StoreDir != "" {
		st, err := filestore.Open(cfg.StoreDir, filestore.Config{Sync: filestore.SyncInterval,
			MaxBytes: cfg.StoreMaxBytes, Full: client.FullDropQoS0, Logger: g.log.With("component", "uplink-store")})
		if err != nil {
			return fmt.Errorf("uplink.store_dir: %w", err)
		}
		g.ustore = st
		r := st.Recovery()
		g.log.Info("uplink store opened", "dir", cfg.StoreDir, "records", r.Records, "torn_bytes", r.TornBytes)
	} else {
		g.ustore = client.NewMemStore(client.MemStoreConfig{Full: client.FullDropQoS0})
	}
	state := "edge/" + g.cfg.Gateway + "/$gateway"
	c, err := client.New(client.Config{
		Addr: cfg.Addr, Version: mqtt.V5, ClientID: cfg.ClientID, Username: cfg.Username,
		Password: []byte(cfg.Password), SessionExpiry: 86400, Store: g.ustore, ReturnWhenStored: true,
		MaxInflight: 256, MaxBackoff: cfg.MaxBackoff.D(), MinBackoff: 50 * time.Millisecond,
		Will:   &mqtt.Will{Topic: []byte(state), Payload: []byte(`{"status":"offline"}`), QoS: 1, Retain: true},
		Logger: g.log.With("component", "uplink"),
		OnConnect: func(ci client.ConnectInfo) {
			g.log.Info("uplink connected", "addr", cfg.Addr, "session_present", ci.SessionPresent)
		},
		OnConnectionLost: func(err error) {
			g.log.Warn("uplink lost", "addr", cfg.Addr, "err", err)
		},
	})
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	g.up = c
	return nil
}

func parseBackend(s string) (uring.Backend, error) {
	switch s {
	case "auto", "":
		return uring.BackendAuto, nil
	case "io_uring":
		return uring.BackendIOURing, nil
	case "mmsg":
		return uring.BackendMmsg, nil
	case "std":
		return uring.BackendStd, nil
	}
	return 0, fmt.Errorf("%q is not auto, io_uring, mmsg or std", s)
}

// openCoAP opens the CoAP ingest sockets: one batched socket, or with
// coap.workers > 1 a reuseport group steered per CPU, each upgraded to the
// best uring backend and served by its own endpoint.
func (g *Gateway) openCoAP() error {
	be, _ := parseBackend(g.cfg.CoAP.Backend)
	ucfg := uring.Config{Backend: be, ReadBuffer: 4 << 20, WriteBuffer: 4 << 20}
	var conns []uring.BatchConn
	if g.inh != nil && len(g.inh.coap) > 0 {
		for _, uc := range g.inh.coap {
			c, err := uring.NewConn(uc, ucfg)
			if err != nil {
				return fmt.Errorf("inherited coap socket: %w", err)
			}
			conns = append(conns, c)
			g.udp = append(g.udp, uc)
		}
		g.steering = "inherited from the previous process"
	} else if g.cfg.CoAP.Workers > 1 {
		cpus := make([]int, g.cfg.CoAP.Workers)
		for i := range cpus {
			cpus[i] = i
		}
		grp, err := numa.ListenUDP(g.runCtx, "udp", g.cfg.CoAP.Listen, numa.SteerConfig{CPUs: cpus})
		if err != nil {
			return fmt.Errorf("coap.listen (reuseport group): %w", err)
		}
		g.group = grp
		g.steering = grp.Report()
		g.udp = append(g.udp, grp.Conns...)
		for _, uc := range grp.Conns {
			bc, err := uring.Upgrade(uc, ucfg)
			if err != nil {
				return fmt.Errorf("coap.backend: %w", err)
			}
			conns = append(conns, bc)
		}
	} else {
		laddr, err := net.ResolveUDPAddr("udp", g.cfg.CoAP.Listen)
		if err != nil {
			return fmt.Errorf("coap.listen: %w", err)
		}
		uc, err := net.ListenUDP("udp", laddr)
		// A predecessor killed a moment ago may still hold the port while
		// the kernel tears its io_uring down asynchronously: retry briefly.
		for i := 0; i < 60 && errors.Is(err, syscall.EADDRINUSE); i++ {
			time.Sleep(50 * time.Millisecond)
			uc, err = net.ListenUDP("udp", laddr)
		}
		if err != nil {
			return fmt.Errorf("coap.listen: %w", err)
		}
		c, err := uring.NewConn(uc, ucfg)
		if err != nil {
			uc.Close()
			return fmt.Errorf("coap.backend: %w", err)
		}
		conns = append(conns, c)
		g.udp = append(g.udp, uc)
		g.steering = "single socket"
	}
	for _, bc := range conns {
		if c, ok := bc.(*uring.Conn); ok {
			g.uconns = append(g.uconns, c)
			g.backend = c.Report().String()
		}
		workers := 0
		if len(conns) > 1 {
			workers = 1
		}
		ep, err := endpoint.New(bc, endpoint.Config{Handler: ingestHandler{g: g, ep: len(g.eps), src: srcCoAP},
			ConcurrentReads: true, Workers: workers, BatchSize: 32, Pool: g.pool, MaxDedup: 16384, Logger: g.log})
		if err != nil {
			bc.Close()
			return fmt.Errorf("coap endpoint: %w", err)
		}
		g.eps = append(g.eps, ep)
		g.epKinds = append(g.epKinds, srcCoAP)
	}
	g.coapAddr = netip.MustParseAddrPort(g.eps[0].LocalAddr().String())
	g.log.Info("coap listening", "addr", g.coapAddr, "sockets", len(conns), "backend", g.backend, "steering", g.steering)
	return nil
}

func (g *Gateway) openDTLS() error {
	keys := map[string][]byte{}
	for id, k := range g.cfg.CoAP.DTLS.PSK {
		b, _ := hex.DecodeString(k)
		keys[id] = b
	}
	srv, err := dtls.Listen("udp", g.cfg.CoAP.DTLS.Listen, dtls.Config{
		PSK: func(identity []byte) ([]byte, error) {
			if k, ok := keys[string(identity)]; ok {
				return k, nil
			}
			return nil, errors.New("unknown PSK identity")
		},
		Logger: g.log.With("component", "dtls"),
	})
	if err != nil {
		return fmt.Errorf("coap.dtls.listen: %w", err)
	}
	g.dtlsSrv = srv
	ep, err := endpoint.New(srv, endpoint.Config{Handler: ingestHandler{g: g, ep: len(g.eps), src: srcDTLS}, Pool: g.pool, Logger: g.log})
	if err != nil {
		return fmt.Errorf("coap dtls endpoint: %w", err)
	}
	g.eps = append(g.eps, ep)
	g.epKinds = append(g.epKinds, srcDTLS)
	g.log.Info("coaps listening", "addr", srv.LocalAddr())
	return nil
}

// CoAPAddr returns the CoAP ingest address.
func (g *Gateway) CoAPAddr() netip.AddrPort { return g.coapAddr }

// MQTTAddr returns the embedded broker's TCP address, if it listens.
func (g *Gateway) MQTTAddr() string {
	if g.mqttLn == nil {
		return ""
	}
	return g.mqttLn.Addr().String()
}

// Run starts every component and blocks until ctx is done, then shuts down
// in order: ingest first, then the pipeline drains, then the uplink flushes
// its store, then the broker stops.
func (g *Gateway) Run(ctx context.Context) error {
	if g.mqttLn != nil {
		go func() {
			if err := g.broker.Serve(g.mqttLn); err != nil && !errors.Is(err, broker.ErrClosed) {
				g.log.Error("broker serve", "err", err)
			}
		}()
	}
	if g.up != nil {
		g.up.Start()
		filter := "edge/" + g.cfg.Gateway + "/+/$cmd/#"
		go func() {
			sctx, cancel := context.WithTimeout(g.runCtx, 24*time.Hour)
			defer cancel()
			// No Local: a local client's command forwarded up by an
			// uplink.up rule must not come back and run twice.
			if _, err := g.up.Subscribe(sctx, g.onUplinkCommand, mqtt.Subscription{Filter: []byte(filter), QoS: 1, NoLocal: true}); err != nil {
				g.log.Warn("uplink subscribe", "err", err)
			}
		}()
		g.startDown()
		state := &mqtt.Publish{Topic: []byte("edge/" + g.cfg.Gateway + "/$gateway"), QoS: 1, Retain: true,
			Payload: []byte(`{"status":"online"}`)}
		_ = g.up.Publish(ctx, state)
	}
	_ = g.broker.Publish(ctx, &mqtt.Publish{Topic: []byte("edge/" + g.cfg.Gateway + "/$gateway"), QoS: 1, Retain: true,
		Payload: []byte(`{"status":"online"}`)})

	g.running.Store(true)
	g.wg.Add(2)
	go g.dispatch()
	go g.shadow.run(g.runCtx)
	go g.rates.run(g.runCtx, g)
	for i := 0; i < 4; i++ {
		g.wg.Add(1)
		go g.commandWorker()
	}
	for _, oc := range g.cfg.CoAP.Observe {
		g.wg.Add(1)
		go g.observe(g.runCtx, oc)
	}
	if g.mesh != nil {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.mesh.run(g.runCtx) }()
	}
	if g.demo != nil {
		g.demo.start(g.runCtx)
	}
	<-ctx.Done()
	g.log.Info("shutting down")
	return g.Close()
}

// Close stops the gateway: ingest, pipeline, uplink (its store is synced),
// broker. It is idempotent.
func (g *Gateway) Close() error {
	var errs []error
	g.closeOnce.Do(func() {
		if g.demo != nil {
			g.demo.close()
		}
		// Shutdown, not Close: an endpoint serves what its socket reader
		// already took from the kernel (an io_uring receive takes datagrams
		// ahead of the reader) and leaves the rest queued, for the new
		// process of a graceful restart that holds the same sockets.
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		var sw sync.WaitGroup
		for _, ep := range g.eps {
			sw.Add(1)
			go func() {
				defer sw.Done()
				if err := ep.Shutdown(sctx); err != nil && !errors.Is(err, endpoint.ErrClosed) && !errors.Is(err, net.ErrClosed) {
					g.log.Warn("coap endpoint shutdown", "err", err)
				}
			}()
		}
		sw.Wait()
		scancel()
		if g.group != nil {
			_ = g.group.Close()
		}
		if g.dtlsSrv != nil {
			_ = g.dtlsSrv.Close()
		}
		if g.ring != nil {
			g.ring.Close() // the dispatcher drains what is queued
		}
		if g.running.Load() {
			<-g.dispDone // the dispatcher drained the ring into the pool
		}
		if g.work != nil {
			_ = g.work.Close() // runs what is queued
		}
		if g.stop != nil {
			g.stop()
		}
		if g.cmdQ != nil {
			g.cmdQ.Close()
		}
		g.wg.Wait()
		if g.mesh != nil {
			g.mesh.close()
		}
		if g.cmdEP != nil {
			_ = g.cmdEP.Close()
		}
		if g.up != nil {
			if g.broker != nil {
				_ = g.broker.Publish(context.Background(), &mqtt.Publish{Topic: []byte("edge/" + g.cfg.Gateway + "/$gateway"),
					QoS: 1, Retain: true, Payload: []byte(`{"status":"offline"}`)})
			}
			st := g.up.Stats()
			errs = append(errs, g.up.Close())
			g.log.Info("uplink closed", "stored", st.Stored, "acked", st.Acked)
		}
		if g.ustore != nil {
			t0 := time.Now()
			errs = append(errs, g.ustore.Close())
			g.log.Debug("uplink store closed", "took", time.Since(t0))
		}
		if g.broker != nil {
			t0 := time.Now()
			errs = append(errs, g.broker.Close())
			g.log.Debug("broker closed", "took", time.Since(t0))
		}
		if g.bstore != nil {
			errs = append(errs, g.bstore.Close())
		}
		if g.mqttLn != nil {
			_ = g.mqttLn.Close()
		}
	})
	return errors.Join(errs...)
}

// ingestHandler is the CoAP handler of the ingest endpoints:
//
//	POST|PUT /r/{device}              SenML JSON (110, or 50) or CBOR (112, or 60)
//	POST|PUT /r/{device}/{quantity}   plain text value, or SenML
//	POST|PUT /r                       SenML whose base name names the device
//
// It copies the path and body into a pooled buffer, pushes it on the
// readings ring and answers 2.04 at once; a full ring answers 5.03.
type ingestHandler struct {
	g   *Gateway
	ep  int
	src byte
}

func (h ingestHandler) ServeCoAP(w *endpoint.ResponseWriter, r *endpoint.Request) {
	g := h.g
	code := r.Msg.Code
	if code == coap.GET {
		if r.Msg.Path() == "/.well-known/core" {
			w.SetContentFormat(coap.AppLinkFormat)
			_, _ = w.WriteString(`</r>;rt="senml";ct="110 112 0"`)
			return
		}
		w.SetCode(coap.NotFound)
		return
	}
	if code != coap.POST && code != coap.PUT {
		w.SetCode(coap.MethodNotAllowed)
		return
	}
	var pathBuf [128]byte
	path := r.Msg.AppendPath(pathBuf[:0])
	if len(path) < 2 || path[0] != '/' || path[1] != 'r' || (len(path) > 2 && path[2] != '/') || len(path) > 120 {
		g.c.badRequest.Add(1)
		w.SetCode(coap.NotFound)
		return
	}
	if len(r.Body) == 0 || len(r.Body) > 16<<10 {
		g.c.badRequest.Add(1)
		w.SetCode(coap.BadRequest)
		return
	}
	format := fmtPlain
	if opt, ok := r.Msg.Uint(coap.ContentFormat); ok {
		switch coap.MediaType(opt) {
		case coap.AppSenMLJSON, coap.AppJSON:
			format = fmtSenMLJSON
		case coap.AppSenMLCBOR, coap.AppCBOR:
			format = fmtSenMLCBOR
		case coap.TextPlain:
		default:
			g.c.badRequest.Add(1)
			w.SetCode(coap.UnsupportedContentFormat)
			return
		}
	}
	rest := path[2:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	b := g.pool.Get(len(rest) + len(r.Body))
	copy(b.B, rest)
	copy(b.B[len(rest):], r.Body)
	it := ingestItem{buf: b, pathLen: len(rest), format: format, src: h.src, peer: r.Peer, at: time.Now().UnixNano(), ep: h.ep}
	if g.ackStored {
		// Normalise here and acknowledge once the uplink store holds it.
		t := g.tasks.Get().(*batchTask)
		ok := g.normalise(t, &it)
		g.tasks.Put(t)
		b.Release()
		g.c.received.Add(1)
		if !ok {
			w.SetCode(coap.ServiceUnavailable)
			w.Header().SetUint(coap.MaxAge, 1)
			return
		}
		w.SetCode(coap.Changed)
		return
	}
	if !g.ring.TryPush(it) {
		b.Release()
		g.c.ringFull.Add(1)
		w.SetCode(coap.ServiceUnavailable)
		w.Header().SetUint(coap.MaxAge, 1)
		return
	}
	g.c.received.Add(1)
	w.SetCode(coap.Changed)
}

// pushIngest queues an upload from an in-process source (the mesh side,
// tests) for the normalisers.
func (g *Gateway) pushIngest(device string, body []byte, format, src byte, at time.Time) bool {
	return g.pushIngestFrom(device, body, format, src, netip.AddrPort{}, at)
}

// pushIngestFrom is pushIngest for a device with a CoAP address.
func (g *Gateway) pushIngestFrom(device string, body []byte, format, src byte, peer netip.AddrPort, at time.Time) bool {
	b := g.pool.Get(len(device) + len(body))
	copy(b.B, device)
	copy(b.B[len(device):], body)
	if !g.ring.TryPush(ingestItem{buf: b, pathLen: len(device), format: format, src: src, peer: peer, at: at.UnixNano(), ep: -1}) {
		b.Release()
		g.c.ringFull.Add(1)
		return false
	}
	g.c.received.Add(1)
	if src == srcMesh {
		g.c.meshReadings.Add(1)
	}
	return true
}

// dispatch moves batches from the readings ring to the worker pool.
func (g *Gateway) dispatch() {
	defer close(g.dispDone)
	ctx := context.Background()
	for {
		t := g.tasks.Get().(*batchTask)
		n, err := g.ring.PopBatch(ctx, t.items[:cap(t.items)])
		if n > 0 {
			t.n = n
			if err := g.work.Submit(ctx, t); err != nil {
				t.Run() // pool closed: normalise here
			}
		} else {
			g.tasks.Put(t)
		}
		if err != nil {
			return
		}
	}
}

// batchTask normalises a batch of uploads on a sched worker.
type batchTask struct {
	g        *Gateway
	items    []ingestItem
	n        int
	readings []reading
	scratch  []byte
	topic    []byte
	pub      mqtt.Publish
}

func (t *batchTask) Run() {
	g := t.g
	for i := 0; i < t.n; i++ {
		it := &t.items[i]
		g.normalise(t, it)
		it.buf.Release()
		*it = ingestItem{}
	}
	t.n = 0
	g.tasks.Put(t)
}

// normalise turns one upload into readings, publishes them and updates the
// device's shadow. It reports false when a reading could not be handed to
// the uplink (or the upload was bad).
func (g *Gateway) normalise(t *batchTask, it *ingestItem) bool {
	path := it.buf.B[:it.pathLen]
	body := it.buf.B[it.pathLen:]
	device, quantity := "", ""
	if i := indexByte(path, '/'); i >= 0 {
		device, quantity = string(path[:i]), string(path[i+1:])
	} else {
		device = string(path)
	}
	at := time.Unix(0, it.at)
	var err error
	var bn string
	t.readings = t.readings[:0]
	switch it.format {
	case fmtSenMLJSON:
		t.readings, bn, err = parseSenMLJSON(t.readings, body, at)
	case fmtSenMLCBOR:
		t.readings, bn, err = parseSenMLCBOR(t.readings, body, at)
	default:
		if quantity == "" {
			quantity = "value"
		}
		t.readings, err = parsePlain(t.readings, sanitizeLevel(quantity), body, at)
	}
	if device == "" {
		device = sanitizeLevel(trimSep(bn))
	}
	if err != nil || device == "" || !topicLevel.MatchString(device) {
		g.c.badRequest.Add(1)
		if err != nil {
			g.log.Debug("bad upload", "device", device, "err", err)
		}
		return false
	}
	if quantity != "" && it.format != fmtPlain && len(t.readings) == 1 && t.readings[0].Quantity == "value" {
		t.readings[0].Quantity = sanitizeLevel(quantity)
	}
	var peer netip.AddrPort
	if it.src != srcMesh {
		peer = it.peer
	}
	dev := g.shadow.touch(device, it.src, peer, at)
	if dev == nil {
		g.c.deviceLimit.Add(uint64(len(t.readings)))
		return false
	}
	ok := true
	for i := range t.readings {
		rd := &t.readings[i]
		t.topic = append(t.topic[:0], "edge/"...)
		t.topic = append(t.topic, g.cfg.Gateway...)
		t.topic = append(t.topic, '/')
		t.topic = append(t.topic, device...)
		t.topic = append(t.topic, '/')
		t.topic = append(t.topic, rd.Quantity...)
		t.scratch = appendReadingJSON(t.scratch[:0], rd)
		ok = g.publish(t, t.topic, t.scratch, false) && ok
		g.c.readings.Add(1)
	}
	g.shadow.record(dev, t.readings, at)
	return ok
}

// publish sends one message to the local broker and the uplink.
func (g *Gateway) publish(t *batchTask, topic, payload []byte, retain bool) bool {
	t.pub = mqtt.Publish{Topic: topic, Payload: payload, QoS: 1, Retain: retain}
	if err := g.broker.Publish(context.Background(), &t.pub); err != nil {
		g.c.localErrors.Add(1)
	} else {
		g.c.publishedLoc.Add(1)
	}
	if g.up != nil {
		t.pub.QoS = uint8(g.cfg.Uplink.QoS)
		if err := g.up.Publish(g.runCtx, &t.pub); err != nil {
			g.c.uplinkErrors.Add(1)
			return false
		}
		g.c.publishedUp.Add(1)
	}
	return true
}

// appendReadingJSON encodes a reading as {"v":21.5,"u":"Cel","t":1732350000.123}.
func appendReadingJSON(dst []byte, r *reading) []byte {
	dst = append(dst, '{')
	switch r.Kind {
	case 's':
		dst = append(dst, `"vs":`...)
		dst = strconv.AppendQuote(dst, r.Str)
	case 'b':
		dst = append(dst, `"vb":`...)
		dst = strconv.AppendBool(dst, r.Num != 0)
	default:
		dst = append(dst, `"v":`...)
		dst = strconv.AppendFloat(dst, r.Num, 'g', -1, 64)
	}
	if r.Unit != "" {
		dst = append(dst, `,"u":`...)
		dst = strconv.AppendQuote(dst, r.Unit)
	}
	dst = append(dst, `,"t":`...)
	dst = strconv.AppendFloat(dst, r.Time, 'f', 6, 64)
	return append(dst, '}')
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimSep(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ':' || s[len(s)-1] == '/') {
		s = s[:len(s)-1]
	}
	return s
}

// rateSampler keeps per-second rates of the main counters.
type rateSampler struct {
	mu                      sync.Mutex
	inRate, outRate, upRate float64
	lastIn, lastOut, lastUp uint64
	lastAt                  time.Time
	history                 []float64 // readings/s, last 60 s
}

func (r *rateSampler) run(ctx context.Context, g *Gateway) {
	defer g.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	r.lastAt = time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in, out, up := g.c.received.Load(), g.c.readings.Load(), g.c.publishedUp.Load()
			dt := now.Sub(r.lastAt).Seconds()
			r.mu.Lock()
			r.inRate = float64(in-r.lastIn) / dt
			r.outRate = float64(out-r.lastOut) / dt
			r.upRate = float64(up-r.lastUp) / dt
			r.history = append(r.history, r.outRate)
			if len(r.history) > 60 {
				r.history = r.history[len(r.history)-60:]
			}
			r.mu.Unlock()
			r.lastIn, r.lastOut, r.lastUp, r.lastAt = in, out, up, now
		}
	}
}

func (r *rateSampler) snapshot() (in, out, up float64, hist []float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inRate, r.outRate, r.upRate, append([]float64(nil), r.history...)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
