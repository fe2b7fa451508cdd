package endpoint

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/uring"
)

// TestShutdownHandsOver is a graceful restart in one process: NON requests
// (never retransmitted, so a lost one stays lost) stream at an endpoint
// that is shut down a quarter of the way through, while a second endpoint,
// on another descriptor of the same socket, takes over. Every request is
// served exactly once, by one or the other: Shutdown serves what its conn
// already read, including an io_uring receive's completions in flight, and
// leaves the rest in the socket. Shutdown also waits for a handler in
// progress.
func TestShutdownHandsOver(t *testing.T) {
	conns := []struct {
		name string
		open func(*net.UDPConn) (uring.BatchConn, bool, error)
	}{
		{"uring.Conn", func(uc *net.UDPConn) (uring.BatchConn, bool, error) {
			c, err := uring.NewConn(uc, uring.Config{ReadBuffer: 4 << 20})
			return c, false, err
		}},
		{"WrapPacketConn", func(uc *net.UDPConn) (uring.BatchConn, bool, error) {
			_ = uc.SetReadBuffer(4 << 20)
			return uring.WrapPacketConn(uc), true, nil
		}},
	}
	for _, cc := range conns {
		t.Run(cc.name, func(t *testing.T) {
			const N = 3000
			var mu sync.Mutex
			served := make([]int, N)
			var byOld, byNew atomic.Int64
			handler := func(count *atomic.Int64) Handler {
				return HandlerFunc(func(w *ResponseWriter, r *Request) {
					i, err := strconv.Atoi(string(r.Msg.Payload))
					if err != nil || i < 0 || i >= N {
						w.SetCode(coap.BadRequest)
						return
					}
					if i%500 == 0 {
						time.Sleep(5 * time.Millisecond) // a slow handler, perhaps in progress at Shutdown
					}
					mu.Lock()
					served[i]++
					mu.Unlock()
					count.Add(1)
				})
			}
			uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			f, err := uc.File()
			if err != nil {
				t.Fatal(err)
			}
			c, concurrent, err := cc.open(uc)
			testutil.SkipIfUnsupported(t, err)
			if err != nil {
				t.Fatal(err)
			}
			old, err := New(c, Config{Handler: handler(&byOld), ConcurrentReads: concurrent, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			addr := uc.LocalAddr().(*net.UDPAddr)

			tx, err := net.DialUDP("udp4", nil, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			var sendWG sync.WaitGroup
			sendWG.Add(1)
			go func() {
				defer sendWG.Done()
				var b []byte
				for i := 0; i < N; i++ {
					m := coap.Message{Type: coap.NonConfirmable, Code: coap.POST, MessageID: coap.MessageID(i), Payload: []byte(strconv.Itoa(i))}
					m.SetPath("/r")
					b, _ = m.AppendBinary(b[:0])
					if _, err := tx.Write(b); err != nil {
						t.Error(err)
						return
					}
					if i%8 == 7 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for byOld.Load() < N/4 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := old.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			atShutdown := byOld.Load()
			// The successor: the same socket through another descriptor.
			pc, err := net.FilePacketConn(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			succ, err := New(uring.WrapPacketConn(pc), Config{Handler: handler(&byNew), ConcurrentReads: true, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer succ.Close()
			sendWG.Wait()
			for byOld.Load()+byNew.Load() < N && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // a duplicate would show up now
			if got := byOld.Load(); got != atShutdown {
				t.Fatalf("the old endpoint served %d requests after Shutdown returned", got-atShutdown)
			}
			mu.Lock()
			defer mu.Unlock()
			var lost, dup int
			for _, s := range served {
				if s == 0 {
					lost++
				} else if s > 1 {
					dup += s - 1
				}
			}
			if lost > 0 || dup > 0 {
				t.Fatalf("old served %d, new %d: %d lost, %d served twice", byOld.Load(), byNew.Load(), lost, dup)
			}
			if byNew.Load() == 0 {
				t.Fatal("the successor served nothing: the stream ended before the shutdown")
			}
			t.Logf("old endpoint served %d, successor %d", byOld.Load(), byNew.Load())
			if _, err := old.Get(ctx, addrOf(succ), "/x"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Get on a shut-down endpoint: %v; want ErrClosed", err)
			}
		})
	}
}

// TestShutdownContext: when ctx ends before the readers do (a conn that
// cannot stop reading is just closed; here the handler holds a worker), it
// closes anyway and reports ctx's error.
func TestShutdownContext(t *testing.T) {
	release := make(chan struct{})
	srv := startEndpoint(t, Config{Workers: 1, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		<-release
	})})
	cli := startEndpoint(t, Config{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = cli.Get(ctx, addrOf(srv), "/block")
	}()
	time.Sleep(50 * time.Millisecond) // the handler is now blocked
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Shutdown(ctx) }()
	time.Sleep(150 * time.Millisecond)
	close(release) // Close waits for the handler; now it can return
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown: %v; want context.DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}
