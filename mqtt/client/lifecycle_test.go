package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clientGoroutines counts goroutines running code of this package.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "edgekit/mqtt/client.(*Client)")
}

// TestCloseStopsGoroutines: after Close no goroutine of the client is
// left, whether it was connected, reconnecting, or never connected.
func TestCloseStopsGoroutines(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	ctx := ctxT(t)
	var cs []*client.Client
	for _, v := range versions() {
		c, err := client.New(client.Config{Addr: broker.Addr(), Version: v, CleanStart: true, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscribe(ctx, func(*mqtt.Publish) {}, mqtt.Subscription{Filter: []byte("x/#"), QoS: 1}); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	// One that cannot connect and keeps retrying.
	dead, err := client.New(client.Config{Addr: "127.0.0.1:1", Logger: discardLogger(), MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Connect(ctx); err == nil {
		t.Fatal("connected to port 1")
	}
	cs = append(cs, dead)
	// A Publish waiting for an acknowledgement that never comes.
	waitErr := make(chan error, 1)
	go func() { waitErr <- dead.Publish(context.Background(), &mqtt.Publish{Topic: []byte("t"), QoS: 1}) }()
	time.Sleep(20 * time.Millisecond)
	if n := clientGoroutines(); n < 7 {
		t.Fatalf("only %d client goroutines running", n)
	}
	for _, c := range cs {
		c.Close()
	}
	if err := <-waitErr; !errors.Is(err, client.ErrClosed) {
		t.Fatalf("pending Publish returned %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for clientGoroutines() > 0 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines left after Close:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
	if err := cs[0].Publish(ctx, &mqtt.Publish{Topic: []byte("t")}); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []client.Config{
		{},
		{Addr: "x:1", Version: 9},
		{Addr: "x:1", SessionExpiry: 10},
		{Addr: "x:1", OutboundTopicAliases: 1},
		{Addr: "x:1", Will: &mqtt.Will{QoS: 3, Topic: []byte("w")}},
	} {
		if _, err := client.New(cfg); !errors.Is(err, client.ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	c, _ := client.New(client.Config{Addr: "x:1"})
	defer c.Close()
	ctx := context.Background()
	for _, p := range []*mqtt.Publish{
		{Topic: []byte("a/+"), QoS: 1},
		{Topic: nil},
		{Topic: []byte("t"), QoS: 3},
	} {
		if err := c.Publish(ctx, p); err == nil {
			t.Errorf("Publish(%q, qos %d) accepted", p.Topic, p.QoS)
		}
	}
	p := &mqtt.Publish{Topic: []byte("t")}
	p.Props.Set(mqtt.PropTopicAlias, 1)
	if err := c.Publish(ctx, p); !errors.Is(err, client.ErrTopicAlias) {
		t.Errorf("Publish with a topic alias: %v", err)
	}
	if _, err := c.Subscribe(ctx, nil, mqtt.Subscription{Filter: []byte("a/#/b")}); err == nil {
		t.Error("Subscribe to an invalid filter accepted")
	}
	if _, err := c.Subscribe(ctx, nil); !errors.Is(err, client.ErrSubscribe) {
		t.Errorf("Subscribe to nothing: %v", err)
	}
}
