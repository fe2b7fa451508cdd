package endpoint

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// TestCloseStopsEverything: Close waits for the endpoint's goroutines,
// fails waiting requests with ErrClosed and ends observations.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	mux, s := newTestMux()
	srv, err := Listen("udp4", "127.0.0.1:0", Config{Handler: mux})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Listen("udp4", "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	peer := addrOf(srv)
	var m coap.Message
	m.SetPath("/obs")
	o, err := cli.Observe(ctx, peer, &m, func(*Response) {})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.obs = 1
	s.mu.Unlock()
	srv.Notify("/obs")
	silent := listenUDP(t)
	defer silent.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := cli.Get(context.Background(), netipMust(silent.LocalAddr().String()), "/x")
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending request: %v", err)
	}
	select {
	case <-o.Done():
	case <-time.After(time.Second):
		t.Fatal("observation not ended by Close")
	}
	if _, err := cli.Get(ctx, peer, "/hello"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	srv.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+1 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
