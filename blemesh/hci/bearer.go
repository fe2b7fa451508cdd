package hci

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/internal/sys"
)

// Config configures a Bearer. The zero value means the defaults.
type Config struct {
	// AdvInterval is the advertising interval of mesh PDUs; 0 means
	// 20 ms (the mesh recommendation; controllers before Bluetooth 5.0 may
	// require 100 ms for non-connectable advertising).
	AdvInterval time.Duration
	// AdvCount is how many advertising events each PDU stays on air; 0
	// means 3.
	AdvCount int
	// ScanInterval and ScanWindow; 0 means 10 ms each (continuous
	// passive scanning).
	ScanInterval, ScanWindow time.Duration
	// TxQueueLen and RxQueueLen bound the queues; 0 means 32 and 128.
	// A full queue drops (and counts) instead of blocking.
	TxQueueLen, RxQueueLen int
	// CommandTimeout bounds the wait for Command Complete; 0 means 2 s.
	CommandTimeout time.Duration
	// MaxPacket bounds one H:4 packet read; 0 means 1029 octets.
	MaxPacket int
	// Logger receives debug and error logs; nil discards them.
	Logger *slog.Logger
}

func (c *Config) norm() {
	if c.AdvInterval <= 0 {
		c.AdvInterval = 20 * time.Millisecond
	}
	if c.AdvCount <= 0 {
		c.AdvCount = 3
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = 10 * time.Millisecond
	}
	if c.ScanWindow <= 0 || c.ScanWindow > c.ScanInterval {
		c.ScanWindow = c.ScanInterval
	}
	if c.TxQueueLen <= 0 {
		c.TxQueueLen = 32
	}
	if c.RxQueueLen <= 0 {
		c.RxQueueLen = 128
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are a Bearer's counters.
type Stats struct {
	TxQueued, TxDropped, TxSent        uint64
	RxReports, RxMesh, RxDropped       uint64
	Malformed, CmdErrors, OtherPackets uint64
}

// Received is one mesh AD structure heard by the scanner, with the
// advertiser's address and RSSI. It is a value (no pointers into the
// reader's buffer).
type Received struct {
	Type uint8
	RSSI int8
	Addr [6]byte
	n    uint8
	buf  [bearer.MaxPayloadLen]byte
}

// Adv returns the AD structure; its payload aliases r.
func (r *Received) Adv() bearer.Adv { return bearer.Adv{Type: r.Type, Payload: r.buf[:r.n]} }

type txAdv struct {
	n   uint8
	buf [bearer.MaxADLen]byte
}

type cmdResult struct {
	opcode uint16
	status uint8
	ret    [16]byte
	n      uint8
}

// Bearer is the advertising bearer over an HCI controller reached through
// an io.ReadWriter carrying H:4 packets: a serial controller, btvirt's Unix
// socket or an HCI user channel ([OpenUserChannel]). It advertises each mesh
// PDU as a legacy ADV_NONCONN_IND for AdvCount intervals and scans
// passively without duplicate filtering.
//
// It starts two goroutines, stopped by Close: a reader that decodes
// packets and never blocks (reports go to a bounded queue that drops when
// full, command completions to a bounded slot), and a transmitter that
// issues the advertising commands one PDU at a time. Send is safe for
// concurrent use and never blocks; Received is read by one consumer.
type Bearer struct {
	cfg    Config
	rw     io.ReadWriter
	log    *slog.Logger
	wmu    sync.Mutex // one command in flight
	wbuf   []byte
	cmdC   chan cmdResult
	rxC    chan Received
	txC    chan txAdv
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	rerr   atomic.Value // error that stopped the reader
	ready  chan struct{}
	stats  struct{ txQueued, txDropped, txSent, rxReports, rxMesh, rxDropped, malformed, cmdErrors, other atomic.Uint64 }
	closed atomic.Bool
}

// New starts a bearer on rw. Call Init before Send.
func New(rw io.ReadWriter, cfg Config) *Bearer {
	cfg.norm()
	b := &Bearer{
		cfg: cfg, rw: rw, log: cfg.Logger,
		wbuf:  make([]byte, 0, 4+maxCommandParamsLen),
		cmdC:  make(chan cmdResult, 4),
		rxC:   make(chan Received, cfg.RxQueueLen),
		txC:   make(chan txAdv, cfg.TxQueueLen),
		done:  make(chan struct{}),
		ready: make(chan struct{}),
	}
	b.wg.Add(2)
	go b.reader()
	go b.transmitter()
	return b
}

// OpenUserChannel opens hci<dev> through an HCI user channel (Linux; the
// controller must be down and the caller needs CAP_NET_ADMIN). Other
// systems get an error wrapping errors.ErrUnsupported.
func OpenUserChannel(dev uint16) (io.ReadWriteCloser, error) {
	f, err := sys.OpenHCIUserChannel(dev)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stats returns the counters.
func (b *Bearer) Stats() Stats {
	s := &b.stats
	return Stats{s.txQueued.Load(), s.txDropped.Load(), s.txSent.Load(), s.rxReports.Load(), s.rxMesh.Load(),
		s.rxDropped.Load(), s.malformed.Load(), s.cmdErrors.Load(), s.other.Load()}
}

// Received returns the queue of mesh AD structures heard.
func (b *Bearer) Received() <-chan Received { return b.rxC }

// Err returns the error that stopped the reader (nil while it runs).
func (b *Bearer) Err() error {
	if e, ok := b.rerr.Load().(error); ok {
		return e
	}
	return nil
}

func (b *Bearer) reader() {
	defer b.wg.Done()
	fr := NewFramer(b.rw, b.cfg.MaxPacket)
	var ev Event
	var rep AdvReport
	var ad bearer.Adv
	for {
		typ, body, err := fr.Next()
		if err != nil {
			if !b.closed.Load() {
				b.log.Debug("hci reader stopped", "err", err)
			}
			b.rerr.Store(err)
			b.Close()
			return
		}
		if typ != PacketEvent {
			b.stats.other.Add(1)
			continue
		}
		if _, err := ev.Decode(body); err != nil {
			b.stats.malformed.Add(1)
			continue
		}
		switch ev.Code {
		case EvtCommandComplete:
			var cc CommandComplete
			if cc.Decode(ev.Params) != nil {
				b.stats.malformed.Add(1)
				continue
			}
			r := cmdResult{opcode: cc.Opcode, status: cc.Status()}
			r.n = uint8(copy(r.ret[:], cc.Return))
			b.complete(r)
		case EvtCommandStatus:
			var cs CommandStatus
			if cs.Decode(ev.Params) != nil {
				b.stats.malformed.Add(1)
				continue
			}
			b.complete(cmdResult{opcode: cs.Opcode, status: cs.Status})
		case EvtLEMeta:
			if len(ev.Params) == 0 || ev.Params[0] != SubLEAdvReport {
				continue
			}
			it := NewReportIter(ev.Params)
			for it.Next(&rep) {
				b.stats.rxReports.Add(1)
				if rep.EventType != AdvNonconnInd && rep.EventType != AdvInd && rep.EventType != AdvScanInd {
					continue
				}
				ads := bearer.NewIter(rep.Data)
				for ads.Next(&ad) {
					b.stats.rxMesh.Add(1)
					r := Received{Type: ad.Type, RSSI: rep.RSSI, Addr: rep.Addr}
					r.n = uint8(copy(r.buf[:], ad.Payload))
					select {
					case b.rxC <- r:
					default:
						b.stats.rxDropped.Add(1)
					}
				}
			}
			if it.Err() != nil {
				b.stats.malformed.Add(1)
			}
		}
	}
}

// complete hands a command result to the waiting command without blocking;
// a result nobody waits for is dropped when the slot is full.
func (b *Bearer) complete(r cmdResult) {
	select {
	case b.cmdC <- r:
	default:
		select { // drop the oldest stale result and retry once
		case <-b.cmdC:
		default:
		}
		select {
		case b.cmdC <- r:
		default:
		}
	}
}

// Command sends an HCI command and waits for its Command Complete (or
// Command Status) and returns the return parameters after the status
// (copied into ret). A non-zero status is a StatusError.
func (b *Bearer) Command(ctx context.Context, opcode uint16, params []byte, ret []byte) ([]byte, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if b.closed.Load() {
		return ret, ErrClosed
	}
	// Forget results of earlier commands that timed out.
	for len(b.cmdC) > 0 {
		<-b.cmdC
	}
	pkt, err := AppendCommand(b.wbuf[:0], opcode, params)
	if err != nil {
		return ret, err
	}
	if _, err := b.rw.Write(pkt); err != nil {
		b.stats.cmdErrors.Add(1)
		return ret, err
	}
	t := time.NewTimer(b.cfg.CommandTimeout)
	defer t.Stop()
	for {
		select {
		case r := <-b.cmdC:
			if r.opcode != opcode {
				continue
			}
			if r.status != 0 {
				b.stats.cmdErrors.Add(1)
				return ret, StatusError{Opcode: opcode, Status: r.status}
			}
			if r.n > 0 {
				ret = append(ret, r.ret[1:r.n]...)
			}
			return ret, nil
		case <-t.C:
			b.stats.cmdErrors.Add(1)
			return ret, ErrTimeout
		case <-ctx.Done():
			return ret, ctx.Err()
		case <-b.done:
			return ret, ErrClosed
		}
	}
}

func units(d time.Duration) uint16 { // 0.625 ms units
	u := d * 1000 / 625 / time.Microsecond
	if u < 0x0004 {
		u = 0x0004
	}
	if u > 0x4000 {
		u = 0x4000
	}
	return uint16(u)
}

// Init resets the controller and sets up advertising and passive scanning.
func (b *Bearer) Init(ctx context.Context) error {
	steps := []struct {
		op uint16
		p  []byte
	}{
		{OpReset, nil},
		{OpSetEventMask, []byte{0xff, 0xff, 0xfb, 0xff, 0x07, 0xf8, 0xbf, 0x3d}},
		{OpLESetEventMask, []byte{0x1f, 0, 0, 0, 0, 0, 0, 0}},
		{OpLESetScanEnable, []byte{0, 0}},
	}
	var ap [15]byte
	iv := units(b.cfg.AdvInterval)
	binary.LittleEndian.PutUint16(ap[0:], max(iv, 0x20))
	binary.LittleEndian.PutUint16(ap[2:], max(iv, 0x20))
	ap[4] = AdvNonconnInd
	ap[13] = 0x07 // all three channels
	var sp [7]byte
	sp[0] = 0x00 // passive
	binary.LittleEndian.PutUint16(sp[1:], units(b.cfg.ScanInterval))
	binary.LittleEndian.PutUint16(sp[3:], units(b.cfg.ScanWindow))
	steps = append(steps,
		struct {
			op uint16
			p  []byte
		}{OpLESetAdvParams, ap[:]},
		struct {
			op uint16
			p  []byte
		}{OpLESetScanParams, sp[:]},
		struct {
			op uint16
			p  []byte
		}{OpLESetScanEnable, []byte{1, 0}}, // enable, no duplicate filtering
	)
	for _, s := range steps {
		if _, err := b.Command(ctx, s.op, s.p, nil); err != nil {
			var se StatusError
			if s.op == OpLESetScanEnable && len(s.p) == 2 && s.p[0] == 0 && errors.As(err, &se) {
				b.stats.cmdErrors.Add(^uint64(0)) // expected: not an error
				continue                          // disabling a scan that is not running
			}
			return err
		}
	}
	select {
	case <-b.ready:
	default:
		close(b.ready)
	}
	return nil
}

// Send queues a mesh AD structure for advertising. It copies a, never
// blocks, and drops (counting) when the queue is full.
func (b *Bearer) Send(a *bearer.Adv) error {
	if b.closed.Load() {
		return ErrClosed
	}
	var t txAdv
	out, err := a.AppendBinary(t.buf[:0])
	if err != nil {
		return err
	}
	t.n = uint8(len(out))
	select {
	case b.txC <- t:
		b.stats.txQueued.Add(1)
	default:
		b.stats.txDropped.Add(1)
	}
	return nil
}

func (b *Bearer) transmitter() {
	defer b.wg.Done()
	select {
	case <-b.ready:
	case <-b.done:
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-b.done; cancel() }()
	var data [32]byte
	hold := time.Duration(b.cfg.AdvCount) * b.cfg.AdvInterval
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		var a txAdv
		select {
		case a = <-b.txC:
		case <-b.done:
			return
		}
		data = [32]byte{}
		data[0] = a.n
		copy(data[1:], a.buf[:a.n])
		if _, err := b.Command(ctx, OpLESetAdvData, data[:], nil); err != nil {
			b.log.Debug("hci set adv data", "err", err)
			continue
		}
		if _, err := b.Command(ctx, OpLESetAdvEnable, []byte{1}, nil); err != nil {
			b.log.Debug("hci adv enable", "err", err)
			continue
		}
		b.stats.txSent.Add(1)
		t.Reset(hold)
		select {
		case <-t.C:
		case <-b.done:
			return
		}
		if _, err := b.Command(ctx, OpLESetAdvEnable, []byte{0}, nil); err != nil {
			b.log.Debug("hci adv disable", "err", err)
		}
	}
}

// Close stops the goroutines and closes rw if it is an io.Closer. It waits
// for the reader only when rw could be closed (a reader blocked in Read on
// an unclosable stream cannot be interrupted).
func (b *Bearer) Close() error {
	var err error
	b.once.Do(func() {
		b.closed.Store(true)
		close(b.done)
		if c, ok := b.rw.(io.Closer); ok {
			err = c.Close()
		}
	})
	return err
}

// Wait waits for the goroutines to stop after Close.
func (b *Bearer) Wait() { b.wg.Wait() }
