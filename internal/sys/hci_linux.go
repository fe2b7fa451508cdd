//go:build linux

package sys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenHCIUserChannel opens the Bluetooth controller hci<dev> through an
// HCI user channel socket (AF_BLUETOOTH, BTPROTO_HCI, HCI_CHANNEL_USER): the
// caller gets exclusive raw access and speaks H:4 packets (type octet
// first) over the returned file, one packet per read and per write. The
// controller must be down (not used by bluetoothd) and the caller needs
// CAP_NET_ADMIN. Kernels without Bluetooth fail with an error wrapping
// the socket call's errno (EAFNOSUPPORT).
func OpenHCIUserChannel(dev uint16) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_BLUETOOTH, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.BTPROTO_HCI)
	if err != nil {
		return nil, fmt.Errorf("sys: hci socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrHCI{Dev: dev, Channel: unix.HCI_CHANNEL_USER}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("sys: bind hci%d user channel: %w", dev, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("hci%d-user", dev)), nil
}
