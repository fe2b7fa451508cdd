package numa

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/edgekit/edgekit/internal/sys"
)

// PinCPU locks the calling goroutine to its OS thread
// (runtime.LockOSThread) and restricts that thread to cpu
// (sched_setaffinity). Call the returned restore function from the same
// goroutine to give the thread its previous CPU mask back and unlock it;
// a goroutine that exits still pinned takes its thread with it, so the mask
// never leaks into the runtime's thread pool.
//
// Pin worker threads, not the process: Go sizes its default GOMAXPROCS from
// the process's CPU mask at start-up (and Go 1.25+ keeps re-reading it), so
// pinning the whole process (taskset, a pinned parent) shrinks GOMAXPROCS to
// the pinned set, while pinning single threads leaves it alone.
//
// Off Linux it returns an error wrapping errors.ErrUnsupported.
func PinCPU(cpu int) (restore func(), err error) {
	return pinTo([]int{cpu})
}

// PinCPUs is PinCPU for a set of CPUs: the thread may run on any of them.
func PinCPUs(cpus []int) (restore func(), err error) {
	if len(cpus) == 0 {
		return nil, errors.New("numa: pin: no cpus")
	}
	return pinTo(cpus)
}

// PinNode pins the calling goroutine's thread to the online CPUs of a NUMA
// node of t, as PinCPUs does.
func PinNode(t *Topology, node int) (restore func(), err error) {
	n, ok := t.Node(node)
	if !ok {
		return nil, fmt.Errorf("numa: pin: no node %d", node)
	}
	var cpus []int
	for _, c := range n.CPUs {
		if contains(t.Online, c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return nil, fmt.Errorf("numa: pin: node %d has no online cpus", node)
	}
	return pinTo(cpus)
}

func pinTo(cpus []int) (func(), error) {
	runtime.LockOSThread()
	prev, err := sys.AppendAffinity(nil)
	if err == nil {
		err = sys.SetAffinity(cpus)
	}
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("numa: pin to cpus %s: %w", FormatList(cpus), err)
	}
	return func() {
		if sys.SetAffinity(prev) != nil {
			// Leave the thread locked: it dies with the goroutine rather
			// than carrying a wrong mask back into the pool.
			return
		}
		runtime.UnlockOSThread()
	}, nil
}

// CurrentCPU returns the CPU the calling thread runs on (getcpu). It is
// exact only while the thread is pinned to a single CPU.
func CurrentCPU() (int, error) {
	c, _, err := sys.Getcpu()
	if err != nil {
		return -1, fmt.Errorf("numa: %w", err)
	}
	return c, nil
}

// RunPinned runs fn in one goroutine per entry of cpus, each locked to an OS
// thread pinned to that CPU, and waits for all of them. The context passed
// to fn is cancelled when any fn returns an error; RunPinned returns the
// first error. If a thread cannot be pinned, its fn is not run and the error
// is returned (wrapping errors.ErrUnsupported off Linux).
//
// The pinned threads exit with their goroutines, so the CPU masks never leak
// into the runtime's thread pool.
func RunPinned(ctx context.Context, cpus []int, fn func(ctx context.Context, worker, cpu int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	for i, cpu := range cpus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Not restored on purpose: the thread ends with this goroutine.
			if _, err := PinCPU(cpu); err != nil {
				fail(err)
				return
			}
			if err := fn(ctx, i, cpu); err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return first
}
