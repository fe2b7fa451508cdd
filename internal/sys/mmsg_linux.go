//go:build linux

package sys

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Msghdr and Iovec are the kernel's struct msghdr and struct iovec; their
// length fields are 32-bit on 32-bit platforms, so set them with SetIovlen,
// SetControllen and SetLen.
type (
	Msghdr = unix.Msghdr
	Iovec  = unix.Iovec
)

// Mmsghdr is struct mmsghdr: 64 bytes on 64-bit platforms, 32 on 32-bit
// ones (Go pads the trailing uint32 to the struct's alignment exactly as C
// does).
type Mmsghdr struct {
	Hdr Msghdr
	Len uint32
}

// SockaddrLen is the room for any socket address a UDP socket reports:
// sizeof(struct sockaddr_in6).
const SockaddrLen = unix.SizeofSockaddrInet6

// Sockaddr is storage for a struct sockaddr_in or sockaddr_in6.
type Sockaddr [SockaddrLen]byte

// Socket families and message flags used by the batched UDP paths.
const (
	AFInet    = unix.AF_INET
	AFInet6   = unix.AF_INET6
	MsgTrunc  = unix.MSG_TRUNC
	MsgCtrunc = unix.MSG_CTRUNC
)

// Recvmmsg calls recvmmsg(2) with a nil timeout. x/sys has no wrapper. It
// uses the raw system call (no scheduler hand-off), so fd must be
// non-blocking or flags must include MSG_DONTWAIT. The error is the raw
// errno (syscall.Errno), EAGAIN included, and allocates nothing.
func Recvmmsg(fd int, hs []Mmsghdr, flags int) (int, error) {
	if len(hs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hs[0])),
		uintptr(len(hs)), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// Sendmmsg calls sendmmsg(2) under the same rules as Recvmmsg. It returns
// how many messages were sent; an error is returned only when none was.
func Sendmmsg(fd int, hs []Mmsghdr, flags int) (int, error) {
	if len(hs) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hs[0])),
		uintptr(len(hs)), uintptr(flags), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// MmsgSockFamily reports the address family (AFInet or AFInet6) of socket fd.
func MmsgSockFamily(fd int) (int, error) {
	var sa Sockaddr
	n := uint32(len(sa))
	_, _, errno := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])),
		uintptr(unsafe.Pointer(&n)))
	if errno != 0 {
		return 0, errno
	}
	return int(binary.NativeEndian.Uint16(sa[:2])), nil
}

// MmsgParseAddr decodes a sockaddr_in or sockaddr_in6 of n bytes. A
// v4-mapped IPv6 address is unmapped; the IPv6 scope (zone) is dropped. It
// returns the zero AddrPort for anything else.
func MmsgParseAddr(sa *Sockaddr, n uint32) netip.AddrPort {
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[:2]) {
	case unix.AF_INET:
		if n < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		if n < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])).Unmap(), port)
	}
	return netip.AddrPort{}
}

// MmsgPutAddr encodes ap into sa for a socket of the given family and
// returns the address length, or 0 if ap cannot be reached from such a
// socket (an IPv6 destination on an AF_INET socket, or an invalid ap).
func MmsgPutAddr(sa *Sockaddr, ap netip.AddrPort, family int) uint32 {
	a := ap.Addr()
	if !a.IsValid() {
		return 0
	}
	*sa = Sockaddr{}
	binary.BigEndian.PutUint16(sa[2:4], ap.Port())
	switch family {
	case unix.AF_INET:
		a = a.Unmap()
		if !a.Is4() {
			return 0
		}
		binary.NativeEndian.PutUint16(sa[:2], unix.AF_INET)
		*(*[4]byte)(sa[4:8]) = a.As4()
		return unix.SizeofSockaddrInet4
	case unix.AF_INET6:
		binary.NativeEndian.PutUint16(sa[:2], unix.AF_INET6)
		*(*[16]byte)(sa[8:24]) = a.As16()
		return unix.SizeofSockaddrInet6
	}
	return 0
}
