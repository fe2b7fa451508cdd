package sched

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

type benchTask struct {
	left atomic.Int64
	done chan struct{}
}

func (c *benchTask) Run() {
	if c.left.Add(-1) == 0 {
		close(c.done)
	}
}

// BenchmarkPoolSubmit is the pool's hand-off cost per task (ns/op), one
// submitter, GOMAXPROCS workers, with `go f()` + WaitGroup as the baseline
// (bench/sched compares with ants too).
func BenchmarkPoolSubmit(b *testing.B) {
	for _, class := range []Class{Normal, RealTime} {
		b.Run("pool/"+class.String(), func(b *testing.B) {
			p, err := NewPool(PoolConfig{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			t := &benchTask{done: make(chan struct{})}
			t.left.Store(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.SubmitClass(ctx, class, t); err != nil {
					b.Fatal(err)
				}
			}
			<-t.done
		})
	}
	b.Run("go", func(b *testing.B) {
		t := &benchTask{done: make(chan struct{})}
		t.left.Store(int64(b.N))
		var wg sync.WaitGroup
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			wg.Add(1)
			go func() { t.Run(); wg.Done() }()
		}
		wg.Wait()
	})
}

// BenchmarkPoolTrySubmitFull is the cost of failing fast on a full queue.
func BenchmarkPoolTrySubmitFull(b *testing.B) {
	p, _ := NewPool(PoolConfig{Workers: 1, QueueSize: 2, Spin: -1})
	g := &blockTask{release: make(chan struct{}), entered: make(chan struct{})}
	p.TrySubmit(g)
	<-g.entered
	t := &benchTask{}
	p.TrySubmit(t)
	p.TrySubmit(t)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p.TrySubmit(t) != ErrFull {
			b.Fatal("queue not full")
		}
	}
	b.StopTimer()
	close(g.release)
	p.Close()
}

type blockTask struct{ entered, release chan struct{} }

func (g *blockTask) Run() { close(g.entered); <-g.release }
