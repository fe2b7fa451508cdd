package numa

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/internal/testutil"
)

func TestPinCPU(t *testing.T) {
	cpus, err := sys.AppendAffinity(nil)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for _, cpu := range cpus {
			restore, err := PinCPU(cpu)
			if err != nil {
				done <- err
				return
			}
			mask, _ := sys.AppendAffinity(nil)
			got, _ := CurrentCPU()
			restore()
			after, _ := sys.AppendAffinity(nil)
			if !slices.Equal(mask, []int{cpu}) || got != cpu || !slices.Equal(after, cpus) {
				done <- errors.New("pin mismatch: mask " + FormatList(mask) + " running on " + FormatList([]int{got}) + " restored " + FormatList(after))
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := PinCPU(1 << 20); err == nil {
		t.Error("PinCPU(1<<20) succeeded")
	}
}

func TestPinNode(t *testing.T) {
	topo, err := ReadTopology(Config{})
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		restore, err := PinNode(topo, topo.Nodes[0].ID)
		if err != nil {
			done <- err
			return
		}
		defer restore()
		mask, _ := sys.AppendAffinity(nil)
		for _, c := range mask {
			if !contains(topo.Nodes[0].CPUs, c) {
				done <- errors.New("cpu " + FormatList([]int{c}) + " outside node 0")
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := PinNode(topo, 9999); err == nil {
		t.Error("PinNode(9999) succeeded")
	}
}

// TestRunPinned checks that every worker runs on its CPU and that
// GOMAXPROCS is left alone (only threads are pinned, not the process).
func TestRunPinned(t *testing.T) {
	cpus, err := sys.AppendAffinity(nil)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	procs := runtime.GOMAXPROCS(0)
	var ran atomic.Int32
	err = RunPinned(context.Background(), cpus, func(ctx context.Context, worker, cpu int) error {
		if cpus[worker] != cpu {
			return errors.New("worker/cpu mismatch")
		}
		for i := 0; i < 100; i++ {
			runtime.Gosched()
			if got, err := CurrentCPU(); err != nil || got != cpu {
				return errors.New("worker left its cpu")
			}
		}
		ran.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if int(ran.Load()) != len(cpus) || runtime.GOMAXPROCS(0) != procs {
		t.Errorf("ran %d of %d; GOMAXPROCS %d -> %d", ran.Load(), len(cpus), procs, runtime.GOMAXPROCS(0))
	}
	boom := errors.New("boom")
	err = RunPinned(context.Background(), cpus, func(ctx context.Context, worker, cpu int) error {
		if worker == 0 {
			return boom
		}
		<-ctx.Done() // cancelled by worker 0's failure
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v; want boom", err)
	}
}

// TestAllocOnNode binds a buffer to node 0, touches it, and asks the kernel
// where its pages are.
func TestAllocOnNode(t *testing.T) {
	b, err := AllocOnNode(1<<20, 0)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer FreeNodeMemory(b)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	for _, off := range []int{0, len(b) / 2, len(b) - 1} {
		n, err := NodeOf(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("page at %d on node %d; want 0", off, n)
		}
	}
	if _, err := AllocOnNode(4096, 1000); err == nil {
		t.Error("AllocOnNode on node 1000 succeeded")
	}
}

func TestPreferLocalMemory(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := PreferLocalMemory(); err != nil {
			done <- err
			return
		}
		done <- ResetMemoryPolicy()
	}()
	err := <-done
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
}
