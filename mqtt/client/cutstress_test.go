package client_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// cutBroker is an in-process MQTT broker for link-loss stress tests: it
// keeps one session, acknowledges QoS 1 and 2 (exactly once for QoS 2),
// records what arrived, enforces its Receive Maximum and cuts the
// connection at random moments: while a PUBLISH is half read, after a
// PUBLISH was read but before its acknowledgement, between packets.
type cutBroker struct {
	t       testing.TB
	v       mqtt.Version
	recvMax int
	rng     *rand.Rand
	rmu     sync.Mutex

	mu      sync.Mutex
	cur     net.Conn
	session bool                   // a session exists (SessionPresent)
	inQoS2  map[mqtt.PacketID]bool // PUBREC sent, PUBREL not yet received
	got     map[uint8][]uint64     // QoS -> message numbers in arrival order
	errs    []string
	conns   int
}

func newCutBroker(t testing.TB, v mqtt.Version, recvMax int, seed uint64) *cutBroker {
	return &cutBroker{t: t, v: v, recvMax: recvMax, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		inQoS2: map[mqtt.PacketID]bool{}, got: map[uint8][]uint64{}}
}

func (b *cutBroker) intn(n int) int {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	return b.rng.IntN(n)
}

func (b *cutBroker) fail(s string) {
	b.mu.Lock()
	b.errs = append(b.errs, s)
	b.mu.Unlock()
}

// dial is the client's Dialer: a TCP loopback pair, the far end served
// by the broker.
func (b *cutBroker) dial(ctx context.Context) (io.ReadWriteCloser, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	var d net.Dialer
	cc, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	sc, ok := <-ch
	if !ok {
		cc.Close()
		return nil, io.ErrUnexpectedEOF
	}
	b.mu.Lock()
	if b.cur != nil {
		b.cur.Close() // session takeover
	}
	b.cur = sc
	b.conns++
	b.mu.Unlock()
	go b.serve(sc)
	return cc, nil
}

// cut closes the current connection.
func (b *cutBroker) cut() {
	b.mu.Lock()
	if b.cur != nil {
		b.cur.Close()
		b.cur = nil
	}
	b.mu.Unlock()
}

func (b *cutBroker) serve(c net.Conn) {
	defer c.Close()
	fr := mqtt.NewFramer(c, nil, mqtt.FramerConfig{Version: b.v, MaxPacketSize: 1 << 20})
	var d mqtt.Decoded
	t, err := fr.ReadInto(&d)
	if err != nil || t != mqtt.TypeConnect {
		return
	}
	b.mu.Lock()
	present := b.session && !d.Connect.CleanStart
	if !present {
		clear(b.inQoS2)
	}
	b.session = true
	b.mu.Unlock()
	ack := mqtt.Connack{Version: b.v, SessionPresent: present}
	if b.v == mqtt.V5 {
		ack.Props.Set(mqtt.PropReceiveMax, uint32(b.recvMax))
	}
	pkt, _ := ack.AppendBinary(nil)
	if _, err := c.Write(pkt); err != nil {
		return
	}
	inflight := map[mqtt.PacketID]bool{} // QoS 1/2 PUBLISH not yet acknowledged on this connection
	var out []byte
	for {
		t, err := fr.ReadInto(&d)
		if err != nil {
			return
		}
		out = out[:0]
		switch t {
		case mqtt.TypePublish:
			p := &d.Publish
			if p.QoS > 0 {
				inflight[p.ID] = true
				if len(inflight) > b.recvMax {
					b.fail("more than Receive Maximum in flight: " + strconv.Itoa(len(inflight)))
				}
			}
			if len(p.Payload) < 8 {
				b.fail("short payload")
				return
			}
			n := binary.BigEndian.Uint64(p.Payload)
			b.mu.Lock()
			switch p.QoS {
			case 2:
				if !b.inQoS2[p.ID] {
					b.inQoS2[p.ID] = true
					b.got[2] = append(b.got[2], n)
				}
			default:
				b.got[p.QoS] = append(b.got[p.QoS], n)
			}
			b.mu.Unlock()
			if b.intn(64) == 0 {
				return // cut after the PUBLISH arrived, before its acknowledgement
			}
			switch p.QoS {
			case 1:
				out = append(out, byte(mqtt.TypePuback)<<4, 2, byte(p.ID>>8), byte(p.ID))
				delete(inflight, p.ID)
			case 2:
				out = append(out, byte(mqtt.TypePubrec)<<4, 2, byte(p.ID>>8), byte(p.ID))
			}
		case mqtt.TypePubrel:
			b.mu.Lock()
			delete(b.inQoS2, d.Ack.ID)
			b.mu.Unlock()
			delete(inflight, d.Ack.ID)
			if b.intn(64) == 0 {
				return
			}
			out = append(out, byte(mqtt.TypePubcomp)<<4, 2, byte(d.Ack.ID>>8), byte(d.Ack.ID))
		case mqtt.TypePingreq:
			out = append(out, byte(mqtt.TypePingresp)<<4, 0)
		case mqtt.TypeDisconnect:
			return
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// quietLogger logs errors only: the stress tests lose connections by the
// hundred.
func quietLogger(t testing.TB) *slog.Logger {
	if os.Getenv("EDGEKIT_CLIENT_LOG") != "" {
		return testLogger(t)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
}

// TestLinkCutStress publishes QoS 1 and 2 messages (returning when stored)
// through an in-process broker that cuts the link at random moments, with
// the memory store and the file store under each sync policy: every
// message arrives, the first copies in order, QoS 2 exactly once, and the
// store ends empty. EDGEKIT_CUT_STRESS=N multiplies the rounds.
func TestLinkCutStress(t *testing.T) {
	rounds := 1
	if v, err := strconv.Atoi(os.Getenv("EDGEKIT_CUT_STRESS")); err == nil && v > 0 {
		rounds = v
	}
	n := 3000
	if testing.Short() {
		n = 600
	}
	type variant struct {
		name string
		v    mqtt.Version
		file bool
		sync filestore.SyncPolicy
	}
	vs := []variant{
		{"v5/mem", mqtt.V5, false, 0},
		{"v3.1.1/mem", mqtt.V311, false, 0},
		{"v5/file-never", mqtt.V5, true, filestore.SyncNever},
		{"v5/file-always", mqtt.V5, true, filestore.SyncAlways},
		{"v3.1.1/file-interval", mqtt.V311, true, filestore.SyncInterval},
	}
	for r := range rounds {
		for i, vr := range vs {
			t.Run(vr.name+"/"+strconv.Itoa(r), func(t *testing.T) {
				m := n
				if vr.file && vr.sync == filestore.SyncAlways {
					m = n / 4 // an fsync per Append, Replace and Delete
				}
				testLinkCutStress(t, vr.v, vr.file, vr.sync, m, uint64(r*len(vs)+i+1))
			})
		}
	}
}

func testLinkCutStress(t *testing.T, v mqtt.Version, file bool, sp filestore.SyncPolicy, n int, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Receive Maximum 10 under MQTT 5; under 3.1.1 the client's own
	// window of 16 is the bound.
	b := newCutBroker(t, v, 10, seed)
	if v != mqtt.V5 {
		b.recvMax = 16
	}
	cfg := client.Config{Version: v, ClientID: "stress", Dialer: b.dial, ReturnWhenStored: true, MaxInflight: 16,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, KeepAlive: 5 * time.Second,
		Logger: quietLogger(t)}
	if v == mqtt.V5 {
		cfg.SessionExpiry = 600
	}
	if file {
		st, err := filestore.Open(t.TempDir(), filestore.Config{Sync: sp, SyncInterval: 2 * time.Millisecond,
			SegmentSize: 16 << 10, Logger: quietLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() }) // after the client's Close
		cfg.Store = st
	}
	c := newClient(t, cfg)
	c.Start()

	// Cut at random moments, more often than a connection lives under load.
	stop := make(chan struct{})
	var cuts atomic.Int64
	cutDone := make(chan struct{})
	go func() {
		defer close(cutDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(200+b.intn(8000)) * time.Microsecond):
				b.cut()
				cuts.Add(1)
			}
		}
	}()
	var wg sync.WaitGroup
	for _, qos := range []uint8{1, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, 8, 40)
			for i := range n {
				binary.BigEndian.PutUint64(payload, uint64(i))
				p := &mqtt.Publish{Topic: []byte("s/q" + strconv.Itoa(int(qos))), QoS: qos, Payload: payload[:8+i%32]}
				if err := c.Publish(ctx, p); err != nil {
					t.Errorf("publish %d qos %d: %v", i, qos, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Keep cutting for a while, then let it drain.
	time.Sleep(50 * time.Millisecond)
	close(stop)
	<-cutDone
	for {
		st := c.Stats()
		if st.Stored == 0 && st.Inflight == 0 && st.Queued == uint64(2*n) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("not drained: %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.Close()
	b.cut()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		t.Error(e)
	}
	st := c.Stats()
	for _, qos := range []uint8{1, 2} {
		got := b.got[qos]
		next, dups := uint64(0), 0
		for k, x := range got {
			switch {
			case x == next:
				next++
			case x < next:
				dups++
				if qos == 2 {
					t.Fatalf("QoS 2: message %d arrived twice (at %d)", x, k)
				}
			default:
				t.Fatalf("QoS %d: message %d arrived before %d (lost or reordered); %d cuts; client %+v; around %v",
					qos, x, next, cuts.Load(), st, got[max(0, k-5):min(len(got), k+5)])
			}
		}
		if next != uint64(n) {
			t.Fatalf("QoS %d: %d of %d messages arrived; %d cuts; client %+v", qos, next, n, cuts.Load(), st)
		}
	}
	if st.Sent != uint64(2*n) || st.Acked != uint64(2*n) || st.Dropped != 0 {
		t.Fatalf("client stats %+v, want %d sent and acknowledged", st, 2*n)
	}
	t.Logf("%d cuts, %d connections, client %+v", cuts.Load(), b.conns, st)
}

// TestExpiredInFlightAfterCut: a QoS 1 message that was sent, lost with
// the link and expired before the reconnect leaves the window (it held
// the only slot: MaxInflight 1), the store and its publisher's wait
// (ErrExpired); the next message goes out. A QoS 2 message in the same
// situation is resent (with DUP and the shortest expiry), because the
// broker may hold its packet identifier.
func TestExpiredInFlightAfterCut(t *testing.T) {
	for _, qos := range []uint8{1, 2} {
		t.Run("qos"+strconv.Itoa(int(qos)), func(t *testing.T) {
			fb := newFakeBroker(t, mqtt.V5)
			clk := &offsetClock{}
			c := fakeClient(t, fb, client.Config{Clock: clk, MaxInflight: 1})
			c.Start()
			fc := fb.next()
			fc.accept(false, mqtt.Properties{})
			ctx := ctxT(t)
			p := &mqtt.Publish{Topic: []byte("x"), QoS: qos, Payload: []byte("old")}
			p.Props.Set(mqtt.PropMessageExpiry, 10)
			res := make(chan error, 1)
			go func() { res <- c.Publish(ctx, p) }()
			fc.expect(mqtt.TypePublish)
			id := fc.d.Publish.ID
			clk.advance(30 * time.Second)
			fc.c.Close() // lost before the acknowledgement

			fc2 := fb.next()
			fc2.accept(true, mqtt.Properties{})
			if qos == 2 {
				fc2.expect(mqtt.TypePublish)
				if q := fc2.d.Publish; !q.Dup || q.ID != id || string(q.Payload) != "old" || q.Props.MessageExpiry != 1 {
					t.Fatalf("QoS 2 resend: dup=%v id=%d (want %d) %q expiry %d", q.Dup, q.ID, id, q.Payload, q.Props.MessageExpiry)
				}
				fc2.write(&mqtt.Ack{Type: mqtt.TypePubrec, Version: mqtt.V5, ID: id})
				fc2.expect(mqtt.TypePubrel)
				fc2.write(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: mqtt.V5, ID: id})
				if err := <-res; err != nil {
					t.Fatalf("QoS 2 Publish: %v", err)
				}
			} else if err := <-res; !errors.Is(err, client.ErrExpired) {
				t.Fatalf("Publish of the expired message: %v, want ErrExpired", err)
			}
			go func() { res <- c.Publish(ctx, &mqtt.Publish{Topic: []byte("x"), QoS: 1, Payload: []byte("new")}) }()
			fc2.expect(mqtt.TypePublish)
			if q := fc2.d.Publish; string(q.Payload) != "new" || q.Dup {
				t.Fatalf("after the expired message: %q dup=%v", q.Payload, q.Dup)
			}
			fc2.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: fc2.d.Publish.ID})
			if err := <-res; err != nil {
				t.Fatal(err)
			}
			st := c.Stats()
			wantDropped := uint64(0)
			if qos == 1 {
				wantDropped = 1
			}
			if st.Inflight != 0 || st.Stored != 0 || st.Dropped != wantDropped {
				t.Fatalf("stats %+v, want nothing in flight or stored, %d dropped", st, wantDropped)
			}
		})
	}
}
