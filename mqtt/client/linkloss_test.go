package client_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// proxy forwards TCP connections to a broker and can cut them all.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	cuts   int
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			a.Close()
			continue
		}
		p.mu.Lock()
		p.conns[a], p.conns[b] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(a, b)
		go pipe(b, a)
	}
}

// cut closes every connection through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.cuts++
}

func TestLinkLoss(t *testing.T) {
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) { testLinkLoss(t, v, false) })
	}
	t.Run("v5.0/filestore", func(t *testing.T) { testLinkLoss(t, mqtt.V5, true) })
}

type teeConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (c *teeConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.buf = append(c.buf, b[:n]...)
	c.mu.Unlock()
	return n, err
}

func testLinkLoss(t *testing.T, v mqtt.Version, durable bool) {
	var teeMu sync.Mutex
	var tees []*teeConn
	n := 10000
	if testing.Short() {
		n = 2000
	}
	// mosquitto 2.0.11 reorders messages to a subscriber whose in-flight
	// window is full: new messages overtake the queued ones (seen here
	// with the default window of 20). An unbounded window for the
	// subscriber (max_inflight_messages 0 under 3.1.1, Receive Maximum
	// 65535 under 5.0) keeps its delivery in order, so what the test sees
	// is the publisher's order.
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{
		"max_queued_messages 0", "max_inflight_messages 0"}})
	px := startProxy(t, broker.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	sub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true, ReceiveMaximum: 65535, Logger: testLogger(t).With("client", "sub")})
	connect(t, sub)
	var mu sync.Mutex
	got := map[string][]int{}
	done := make(chan struct{})
	var once sync.Once
	total := 0
	h := func(m *mqtt.Publish) {
		i, err := strconv.Atoi(string(m.Payload))
		if err != nil {
			t.Errorf("bad payload %q", m.Payload)
			return
		}
		mu.Lock()
		got[string(m.Topic)] = append(got[string(m.Topic)], i)
		total++
		q1, q2 := got["ll/q1"], got["ll/q2"]
		if len(q2) >= n && len(q1) > 0 && q1[len(q1)-1] == n-1 {
			once.Do(func() { close(done) })
		}
		mu.Unlock()
	}
	if _, err := sub.Subscribe(ctx, h, mqtt.Subscription{Filter: []byte("ll/#"), QoS: 2}); err != nil {
		t.Fatal(err)
	}

	cfg := client.Config{
		Version: v, ClientID: "linkloss-" + v.String(), CleanStart: true, KeepAlive: 2 * time.Second,
		Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", px.addr())
			if err != nil {
				return nil, err
			}
			tc := &teeConn{Conn: c}
			teeMu.Lock()
			tees = append(tees, tc)
			teeMu.Unlock()
			return tc, nil
		},
		ReturnWhenStored: true, MaxInflight: 50,
	}
	if v == mqtt.V5 {
		cfg.SessionExpiry = 300
	}
	if v == mqtt.V311 {
		cfg.CleanStart = false
	}
	if durable {
		st, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncInterval, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg.Store = st
		cfg.ClientID += "-file"
	}
	defer func() {
		if !t.Failed() {
			return
		}
		teeMu.Lock()
		defer teeMu.Unlock()
		for i, tc := range tees {
			tc.mu.Lock()
			fr := mqtt.NewFramer(bytes.NewReader(tc.buf), nil, mqtt.FramerConfig{Version: v})
			var sb strings.Builder
			for {
				p, err := fr.ReadPacket()
				if err != nil {
					break
				}
				if pp, ok := p.(*mqtt.Publish); ok && pp.QoS == 1 {
					fmt.Fprintf(&sb, "%s%s ", pp.Payload, map[bool]string{true: "d"}[pp.Dup])
				}
			}
			tc.mu.Unlock()
			t.Logf("conn %d: %s", i, sb.String())
		}
	}()
	pub := newClient(t, cfg)
	connect(t, pub)

	// Cut the link every 20-70 ms while publishing.
	stopCut := make(chan struct{})
	cutDone := make(chan struct{})
	go func() {
		defer close(cutDone)
		for i := 0; ; i++ {
			select {
			case <-stopCut:
				return
			case <-time.After(time.Duration(20+(i*17)%50) * time.Millisecond):
				px.cut()
			}
		}
	}()
	for i := range n {
		for _, q := range []uint8{1, 2} {
			p := &mqtt.Publish{Topic: []byte(fmt.Sprintf("ll/q%d", q)), QoS: q, Payload: []byte(strconv.Itoa(i))}
			if err := pub.Publish(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Keep cutting until most has arrived, then let it recover.
	for {
		mu.Lock()
		k := len(got["ll/q2"])
		mu.Unlock()
		if k >= n*9/10 || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stopCut)
	<-cutDone
	select {
	case <-done:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("timeout: received %d qos1, %d qos2; publisher %+v", len(got["ll/q1"]), len(got["ll/q2"]), pub.Stats())
	}
	// Wait for the last acknowledgements.
	for pub.Stats().Inflight > 0 || pub.Stats().Stored > 0 {
		if ctx.Err() != nil {
			t.Fatalf("publisher never drained: %+v", pub.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // any late duplicates
	mu.Lock()
	defer mu.Unlock()
	q2 := got["ll/q2"]
	if len(q2) != n {
		t.Errorf("QoS 2: received %d messages, want exactly %d", len(q2), n)
	}
	for i, x := range q2 {
		if x != i {
			t.Fatalf("QoS 2: message %d is %d: not in order or not exactly once (around %v)", i, x, q2[max(0, i-3):min(len(q2), i+3)])
		}
	}
	q1 := got["ll/q1"]
	next, dups := 0, 0
	for k, x := range q1 {
		switch {
		case x == next:
			next++
		case x < next:
			dups++
		default:
			t.Fatalf("QoS 1: message %d arrived before %d: %v", x, next, q1[max(0, k-10):min(len(q1), k+10)])
		}
	}
	if next != n {
		t.Fatalf("QoS 1: %d of %d messages arrived", next, n)
	}
	st := pub.Stats()
	t.Logf("%d cuts, publisher reconnects %d, resent %d, QoS 1 duplicates %d", px.cuts, st.Reconnects, st.Resent, dups)
	minReconnects := uint64(10)
	if testing.Short() {
		minReconnects = 2 // 2000 messages can go through in a few cuts' time
	}
	if st.Reconnects < minReconnects {
		t.Errorf("only %d reconnects: the link was not cut as intended", st.Reconnects)
	}
}
