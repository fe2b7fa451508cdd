package uring_test

import (
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// TestNoAllocs proves that every backend moves batches without allocating
// in steady state: a batch of 16 datagrams written and read back.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, b := range backends {
		for _, lb := range loopbacks {
			t.Run(b.String()+"/"+lb.network, func(t *testing.T) {
				rx := listen(t, lb.network, lb.addr, uring.Config{Backend: b})
				tx := listen(t, lb.network, lb.addr, uring.Config{Backend: b})
				out := msgs(16, 64)
				for i := range out {
					out[i].Addr = addrPort(t, rx)
				}
				in := msgs(16, 128)
				var failed error
				got := 0
				round := func() {
					if _, err := tx.WriteBatch(out); err != nil {
						failed = err
						return
					}
					for n := 0; n < len(out); {
						k, err := rx.ReadBatch(in)
						if err != nil {
							failed = err
							return
						}
						n += k
						got += k
					}
				}
				allocs := testing.AllocsPerRun(200, round)
				if failed != nil {
					t.Fatal(failed)
				}
				if got != 201*len(out) {
					t.Fatalf("received %d datagrams; want %d", got, 201*len(out))
				}
				if allocs != 0 {
					t.Fatalf("%v allocs per batch of %d; want 0", allocs, len(out))
				}
			})
		}
	}
}

// TestNoAllocsParked proves that a ReadBatch that has to wait (parking in
// the netpoller until another goroutine's datagram arrives) allocates
// nothing either.
func TestNoAllocsParked(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: b})
			out := msgs(4, 32)
			for i := range out {
				out[i].Addr = addrPort(t, rx)
			}
			kick, stop := make(chan struct{}), make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-kick:
					case <-stop:
						return
					}
					time.Sleep(200 * time.Microsecond) // let the reader park first
					if _, err := tx.WriteBatch(out); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			in := msgs(4, 64)
			var failed error
			round := func() {
				kick <- struct{}{}
				for n := 0; n < len(out); {
					k, err := rx.ReadBatch(in)
					if err != nil {
						failed = err
						return
					}
					n += k
				}
			}
			allocs := testing.AllocsPerRun(50, round)
			if failed != nil {
				t.Fatal(failed)
			}
			if allocs != 0 {
				t.Fatalf("%v allocs per parked batch; want 0", allocs)
			}
		})
	}
}
