//go:build !linux

package sys_test

import (
	"errors"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
)

func TestUringUnsupported(t *testing.T) {
	var p sys.UringParams
	_, e1 := sys.UringSetup(4, &p)
	_, e2 := sys.UringEnter(0, 0, 0, 0)
	_, e3 := sys.Eventfd(true)
	_, e4 := sys.Recvmmsg(0, nil, 0)
	_, e5 := sys.UringMmapAnon(4096)
	for i, err := range []error{e1, e2, e3, e4, e5} {
		if err == errors.ErrUnsupported || !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("call %d: %v; want a wrapped ErrUnsupported", i, err)
		}
	}
}
