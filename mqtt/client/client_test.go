package client_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("EDGEKIT_CLIENT_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

func newClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 20 * time.Millisecond
		cfg.MaxBackoff = 200 * time.Millisecond
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func connect(t testing.TB, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collector records received messages.
type collector struct {
	mu   sync.Mutex
	msgs []*mqtt.Publish
	ch   chan struct{}
}

func newCollector() *collector { return &collector{ch: make(chan struct{}, 1)} }

func (c *collector) handle(m *mqtt.Publish) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m.Clone())
	c.mu.Unlock()
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *collector) wait(t testing.TB, n int, d time.Duration) []*mqtt.Publish {
	t.Helper()
	deadline := time.After(d)
	for {
		c.mu.Lock()
		got := len(c.msgs)
		c.mu.Unlock()
		if got >= n {
			c.mu.Lock()
			defer c.mu.Unlock()
			return append([]*mqtt.Publish(nil), c.msgs...)
		}
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("received %d messages, want %d", got, n)
		}
	}
}

func versions() []mqtt.Version { return []mqtt.Version{mqtt.V311, mqtt.V5} }

func TestRoundTrip(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	for _, v := range versions() {
		for qos := uint8(0); qos <= 2; qos++ {
			t.Run(fmt.Sprintf("v%s/qos%d", v, qos), func(t *testing.T) {
				ctx := ctxT(t)
				sub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true})
				connect(t, sub)
				col := newCollector()
				topic := fmt.Sprintf("rt/%s/%d", v, qos)
				codes, err := sub.Subscribe(ctx, col.handle, mqtt.Subscription{Filter: []byte(topic + "/#"), QoS: 2})
				if err != nil {
					t.Fatal(err)
				}
				if len(codes) != 1 || codes[0] != mqtt.GrantedQoS2 {
					t.Fatalf("SUBACK codes %v", codes)
				}
				pub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, CleanStart: true})
				connect(t, pub)
				const n = 50
				for i := range n {
					p := &mqtt.Publish{Topic: []byte(topic + "/x"), QoS: qos, Payload: []byte(fmt.Sprint(i))}
					if v == mqtt.V5 {
						p.Props.AddUser("k", "v")
						p.Props.SetBytes(mqtt.PropResponseTopic, []byte("reply/here"))
						p.Props.SetBytes(mqtt.PropCorrelationData, []byte{1, 2, 3})
					}
					if err := pub.Publish(ctx, p); err != nil {
						t.Fatal(err)
					}
				}
				msgs := col.wait(t, n, 10*time.Second)
				for i, m := range msgs {
					if string(m.Payload) != fmt.Sprint(i) || m.QoS != qos {
						t.Fatalf("message %d: payload %q qos %d", i, m.Payload, m.QoS)
					}
					if v == mqtt.V5 {
						if len(m.Props.User) != 1 || string(m.Props.User[0].Key) != "k" ||
							string(m.Props.ResponseTopic) != "reply/here" || !bytes.Equal(m.Props.CorrelationData, []byte{1, 2, 3}) {
							t.Fatalf("properties not passed through: %+v", m.Props)
						}
					}
				}
				st := pub.Stats()
				if st.Sent != n || (qos > 0 && st.Acked != n) || st.Inflight != 0 {
					t.Fatalf("publisher stats %+v", st)
				}
				if got := sub.Stats().Received; got != n {
					t.Fatalf("subscriber received %d", got)
				}
			})
		}
	}
}
