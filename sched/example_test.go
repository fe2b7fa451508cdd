package sched_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/edgekit/edgekit/sched"
)

type sumTask struct {
	total *atomic.Int64
	n     int64
	wg    *sync.WaitGroup
}

func (t *sumTask) Run() { t.total.Add(t.n); t.wg.Done() }

func ExamplePool() {
	p, err := sched.NewPool(sched.PoolConfig{Workers: 2, QueueSize: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	var (
		total atomic.Int64
		wg    sync.WaitGroup
	)
	tasks := make([]sumTask, 10)
	for i := range tasks {
		tasks[i] = sumTask{total: &total, n: int64(i + 1), wg: &wg}
		wg.Add(1)
		if err := p.Submit(context.Background(), &tasks[i]); err != nil {
			fmt.Println(err)
		}
	}
	wg.Wait()
	p.Close()
	fmt.Println("sum:", total.Load(), "completed:", p.Stats().Completed)
	fmt.Println(p.TrySubmit(&tasks[0]))
	// Output:
	// sum: 55 completed: 10
	// sched: pool closed
}

func ExampleDetectLimits() {
	l, err := sched.DetectLimits(sched.LimitsConfig{Root: "testdata/v2-nested"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cpus:", l.CPUQuota, "from", l.CPUSource)
	fmt.Println("memory:", l.Memory>>20, "MiB; suggested GOMAXPROCS on 8 CPUs:", l.GOMAXPROCS(8))
	res, _ := sched.ApplyMemoryLimit(l, sched.MemoryLimitConfig{
		Headroom:       0.25,
		Getenv:         func(string) string { return "" },
		SetMemoryLimit: func(int64) int64 { return 1<<63 - 1 }, // a stand-in for debug.SetMemoryLimit
	})
	fmt.Println("GOMEMLIMIT:", res.Limit>>20, "MiB")
	// Output:
	// cpus: 1.5 from /sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice
	// memory: 512 MiB; suggested GOMAXPROCS on 8 CPUs: 2
	// GOMEMLIMIT: 384 MiB
}

// ExampleGCController steps a controller over a rising and falling memory
// reading; in a program, Run drives Step from a ticker and ReadMemory and
// SetGCPercent are left nil (the runtime's own).
func ExampleGCController() {
	readings := []uint64{30, 55, 80, 95, 70, 20} // MiB
	i := 0
	c, err := sched.NewGCController(sched.GCConfig{
		Limit:        100 << 20,
		ReadMemory:   func() uint64 { return readings[i] << 20 },
		SetGCPercent: func(int) int { return 100 },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i = range readings {
		fmt.Printf("%3d MiB -> GOGC %d\n", readings[i], c.Step())
	}
	s := c.Stats()
	fmt.Println("adjustments:", s.Adjustments, "peak MiB:", s.PeakMemory>>20)
	// Output:
	//  30 MiB -> GOGC 100
	//  55 MiB -> GOGC 50
	//  80 MiB -> GOGC 25
	//  95 MiB -> GOGC 10
	//  70 MiB -> GOGC 25
	//  20 MiB -> GOGC 100
	// adjustments: 6 peak MiB: 95
}
