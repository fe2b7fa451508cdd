package sys_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
)

func TestAppendAffinity(t *testing.T) {
	cpus, err := sys.AppendAffinity(nil)
	if runtime.GOOS != "linux" {
		if !errors.Is(err, errors.ErrUnsupported) || err == errors.ErrUnsupported {
			t.Fatalf("AppendAffinity on %s: err = %v; want wrapped ErrUnsupported", runtime.GOOS, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 || len(cpus) > runtime.NumCPU() {
		t.Fatalf("affinity = %v; want 1..%d CPUs", cpus, runtime.NumCPU())
	}
	for i := 1; i < len(cpus); i++ {
		if cpus[i] <= cpus[i-1] {
			t.Fatalf("affinity %v not ascending", cpus)
		}
	}
	// Appending keeps what dst held.
	got, _ := sys.AppendAffinity([]int{-1})
	if got[0] != -1 || len(got) != len(cpus)+1 {
		t.Fatalf("AppendAffinity([-1]) = %v", got)
	}
}
