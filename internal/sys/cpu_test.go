package sys_test

import (
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
)

// wantUnsupported checks the off-Linux contract: an error that wraps
// errors.ErrUnsupported and is not the bare sentinel.
func wantUnsupported(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, errors.ErrUnsupported) || err == errors.ErrUnsupported {
		t.Fatalf("%s on %s: err = %v; want wrapped ErrUnsupported", what, runtime.GOOS, err)
	}
}

func TestSetAffinityGetcpu(t *testing.T) {
	if runtime.GOOS != "linux" {
		wantUnsupported(t, "SetAffinity", sys.SetAffinity([]int{0}))
		_, _, err := sys.Getcpu()
		wantUnsupported(t, "Getcpu", err)
		return
	}
	orig, err := sys.AppendAffinity(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with us
		for _, cpu := range orig {
			if err := sys.SetAffinity([]int{cpu}); err != nil {
				done <- err
				return
			}
			got, node, err := sys.Getcpu()
			if err != nil {
				done <- err
				return
			}
			mask, _ := sys.AppendAffinity(nil)
			if got != cpu || node < 0 || !slices.Equal(mask, []int{cpu}) {
				done <- errors.New("pinned thread runs elsewhere")
				return
			}
		}
		if err := sys.SetAffinity([]int{-1}); err == nil {
			done <- errors.New("SetAffinity(-1) succeeded")
			return
		}
		if err := sys.SetAffinity(nil); err == nil {
			done <- errors.New("SetAffinity(empty) succeeded")
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sys.Gettid() <= 0 {
		t.Error("Gettid <= 0")
	}
}
