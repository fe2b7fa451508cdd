//go:build !linux

package sys

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// OpenHCIUserChannel is only available on Linux.
func OpenHCIUserChannel(dev uint16) (*os.File, error) {
	return nil, fmt.Errorf("sys: hci%d user channel on %s: %w", dev, runtime.GOOS, errors.ErrUnsupported)
}
