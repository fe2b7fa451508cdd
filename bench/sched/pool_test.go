package schedbench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/panjf2000/ants/v2"

	"github.com/edgekit/edgekit/sched"
)

// work is the body of a short task: a few dozen ns of arithmetic, so the
// benchmark measures hand-off cost rather than the task itself.
//
//go:noinline
func work(x uint64) uint64 {
	for i := 0; i < 16; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// counter is the reused task: it does the work and counts down to the end
// of the run, when it closes done.
type counter struct {
	left atomic.Int64
	sink atomic.Uint64
	done chan struct{}
}

func newCounter(n int) *counter {
	c := &counter{done: make(chan struct{})}
	c.left.Store(int64(n))
	return c
}

func (c *counter) Run() {
	c.sink.Store(work(c.sink.Load() | 1))
	if c.left.Add(-1) == 0 {
		close(c.done)
	}
}

func report(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// submitters is how many goroutines submit in the parallel variants.
func submitters() int { return runtime.GOMAXPROCS(0) }

// BenchmarkPool submits b.N short tasks and waits until all ran, with one
// submitting goroutine (1sub) and with GOMAXPROCS of them (Nsub). Every
// pool gets GOMAXPROCS workers and blocks the submitter when it is full:
//   - edgekit: sched.Pool.Submit of one reused *counter;
//   - ants: ants.Pool.Submit of one reused func value;
//   - ants-func: ants.PoolWithFunc.Invoke of one reused pointer, ants'
//     leanest path;
//   - go: `go f()` per task plus a sync.WaitGroup.
func BenchmarkPool(b *testing.B) {
	for _, subs := range []struct {
		name string
		n    func() int
	}{{"1sub", func() int { return 1 }}, {"Nsub", submitters}} {
		b.Run(subs.name+"/impl=edgekit", func(b *testing.B) {
			p, err := sched.NewPool(sched.PoolConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			b.ReportAllocs()
			c := newCounter(b.N)
			b.ResetTimer()
			spread(b.N, subs.n(), func(n int) {
				for i := 0; i < n; i++ {
					if err := p.Submit(ctx, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			<-c.done
			b.StopTimer()
			report(b)
		})
		b.Run(subs.name+"/impl=ants", func(b *testing.B) {
			p, err := ants.NewPool(runtime.GOMAXPROCS(0))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			b.ReportAllocs()
			c := newCounter(b.N)
			f := c.Run // one closure, reused for every task
			b.ResetTimer()
			spread(b.N, subs.n(), func(n int) {
				for i := 0; i < n; i++ {
					if err := p.Submit(f); err != nil {
						b.Error(err)
						return
					}
				}
			})
			<-c.done
			b.StopTimer()
			report(b)
		})
		b.Run(subs.name+"/impl=ants-func", func(b *testing.B) {
			c := newCounter(b.N)
			p, err := ants.NewPoolWithFunc(runtime.GOMAXPROCS(0), func(arg any) { arg.(*counter).Run() })
			if err != nil {
				b.Fatal(err)
			}
			defer p.Release()
			b.ReportAllocs()
			b.ResetTimer()
			spread(b.N, subs.n(), func(n int) {
				for i := 0; i < n; i++ {
					// Not nil: ants' workers take a nil argument as their
					// signal to exit.
					if err := p.Invoke(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			<-c.done
			b.StopTimer()
			report(b)
		})
		b.Run(subs.name+"/impl=go", func(b *testing.B) {
			b.ReportAllocs()
			c := newCounter(b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			spread(b.N, subs.n(), func(n int) {
				for i := 0; i < n; i++ {
					wg.Add(1)
					go func() { c.Run(); wg.Done() }()
				}
			})
			wg.Wait()
			<-c.done
			b.StopTimer()
			report(b)
		})
	}
}

// spread runs submit in g goroutines that share n submissions, and waits.
func spread(n, g int, submit func(n int)) {
	if g == 1 {
		submit(n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		share := n / g
		if i < n%g {
			share++
		}
		wg.Add(1)
		go func() { defer wg.Done(); submit(share) }()
	}
	wg.Wait()
}
