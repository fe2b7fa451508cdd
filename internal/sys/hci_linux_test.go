//go:build linux

package sys

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenHCIUserChannel: on a kernel without Bluetooth the socket call
// fails with EAFNOSUPPORT; with Bluetooth but no controller 0 (or no
// privileges) bind fails; both are wrapped errors, never a panic.
func TestOpenHCIUserChannel(t *testing.T) {
	f, err := OpenHCIUserChannel(0xfffe)
	if err == nil {
		f.Close()
		t.Fatal("opened a user channel on a controller that cannot exist")
	}
	var errno unix.Errno
	if !errors.As(err, &errno) {
		t.Fatalf("error does not wrap an errno: %v", err)
	}
	t.Logf("%v", err)
}
