package sys_test

import (
	"errors"
	"runtime"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
)

func TestMempolicy(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := sys.AnonMap(4096)
		wantUnsupported(t, "AnonMap", err)
		wantUnsupported(t, "SetMempolicy", sys.SetMempolicy(sys.MPOLLocal, nil))
		return
	}
	b, err := sys.AnonMap(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.AnonUnmap(b)
	err = sys.Mbind(b, sys.MPOLBind, []int{0}, sys.MPOLMFStrict)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err) // a kernel without CONFIG_NUMA
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = byte(i)
	}
	if n, err := sys.PageNode(b); err != nil || n != 0 {
		t.Fatalf("PageNode = %d, %v; want node 0", n, err)
	}
	if err := sys.Mbind(b, sys.MPOLBind, []int{-1}, 0); err == nil {
		t.Error("Mbind to node -1 succeeded")
	}
	if err := sys.Mbind(b[1:], sys.MPOLBind, []int{0}, 0); err == nil {
		t.Error("Mbind of an unaligned range succeeded")
	}
	if _, err := sys.AnonMap(0); err == nil {
		t.Error("AnonMap(0) succeeded")
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the policy dies with the thread
		if err := sys.SetMempolicy(sys.MPOLBind, []int{0}); err != nil {
			done <- err
			return
		}
		done <- sys.SetMempolicy(sys.MPOLDefault, nil)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
