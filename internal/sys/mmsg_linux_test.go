package sys_test

import (
	"bytes"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"github.com/edgekit/edgekit/internal/sys"
)

func TestMmsghdrLayout(t *testing.T) {
	want := uintptr(64) // struct mmsghdr on LP64
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want = 32
	}
	if got := unsafe.Sizeof(sys.Mmsghdr{}); got != want {
		t.Fatalf("sizeof(mmsghdr) = %d; want %d", got, want)
	}
	var h sys.Mmsghdr
	if off := unsafe.Offsetof(h.Len); off != unsafe.Sizeof(sys.Msghdr{}) {
		t.Fatalf("offsetof(msg_len) = %d; want %d", off, unsafe.Sizeof(sys.Msghdr{}))
	}
}

func TestMmsgAddrRoundTrip(t *testing.T) {
	for _, c := range []struct {
		ap     string
		family int
		n      uint32
		back   string
	}{
		{"127.0.0.1:5683", sys.AFInet, 16, "127.0.0.1:5683"},
		{"[::ffff:10.1.2.3]:9", sys.AFInet, 16, "10.1.2.3:9"},
		{"10.1.2.3:65535", sys.AFInet6, 28, "10.1.2.3:65535"}, // v4-mapped on the wire, unmapped back
		{"[2001:db8::1]:1", sys.AFInet6, 28, "[2001:db8::1]:1"},
		{"[2001:db8::1]:1", sys.AFInet, 0, ""},
	} {
		var sa sys.Sockaddr
		n := sys.MmsgPutAddr(&sa, netip.MustParseAddrPort(c.ap), c.family)
		if n != c.n {
			t.Errorf("MmsgPutAddr(%s, %d) = %d; want %d", c.ap, c.family, n, c.n)
			continue
		}
		if n == 0 {
			continue
		}
		if got := sys.MmsgParseAddr(&sa, n); got.String() != c.back {
			t.Errorf("round trip of %s = %v; want %s", c.ap, got, c.back)
		}
		if got := sys.MmsgParseAddr(&sa, n-1); got.IsValid() {
			t.Errorf("short name accepted: %v", got)
		}
	}
	var sa sys.Sockaddr
	if sys.MmsgPutAddr(&sa, netip.AddrPort{}, sys.AFInet6) != 0 {
		t.Error("invalid AddrPort encoded")
	}
	if sys.MmsgParseAddr(&sa, 28).IsValid() {
		t.Error("AF_UNSPEC parsed")
	}
}

func TestRecvSendmmsg(t *testing.T) {
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fd := func(c *net.UDPConn) (fd int) {
		rc, _ := c.SyscallConn()
		_ = rc.Control(func(f uintptr) { fd = int(f) })
		return fd
	}
	if fam, err := sys.MmsgSockFamily(fd(a)); err != nil || fam != sys.AFInet {
		t.Fatalf("MmsgSockFamily = %d, %v", fam, err)
	}
	payloads := [][]byte{[]byte("alpha"), []byte("beta"), []byte("gamma")}
	var hs [3]sys.Mmsghdr
	var iovs [3]sys.Iovec
	var names [3]sys.Sockaddr
	for i, p := range payloads {
		iovs[i].Base = &p[0]
		iovs[i].SetLen(len(p))
		hs[i].Hdr.Iov = &iovs[i]
		hs[i].Hdr.SetIovlen(1)
		hs[i].Hdr.Name = &names[i][0]
		hs[i].Hdr.Namelen = sys.MmsgPutAddr(&names[i], b.LocalAddr().(*net.UDPAddr).AddrPort(), sys.AFInet)
	}
	if n, err := sys.Sendmmsg(fd(a), hs[:], 0); n != 3 || err != nil {
		t.Fatalf("Sendmmsg = %d, %v", n, err)
	}
	bufs := make([][]byte, 3)
	for i := range hs {
		bufs[i] = make([]byte, 4) // "alpha" and "gamma" get cut
		iovs[i].Base = &bufs[i][0]
		iovs[i].SetLen(4)
		hs[i].Hdr.Namelen = sys.SockaddrLen
	}
	n, err := sys.Recvmmsg(fd(b), hs[:], syscall.MSG_WAITFORONE)
	for n >= 0 && n < 3 && err == syscall.EAGAIN { // loopback delivery is immediate, but be safe
		n, err = sys.Recvmmsg(fd(b), hs[:], syscall.MSG_WAITFORONE)
	}
	if n != 3 || err != nil {
		t.Fatalf("Recvmmsg = %d, %v", n, err)
	}
	from := a.LocalAddr().(*net.UDPAddr).AddrPort()
	for i := range hs {
		want := payloads[i][:min(4, len(payloads[i]))]
		if !bytes.Equal(bufs[i][:hs[i].Len], want) || sys.MmsgParseAddr(&names[i], hs[i].Hdr.Namelen) != from {
			t.Errorf("message %d: %q from %v", i, bufs[i][:hs[i].Len], sys.MmsgParseAddr(&names[i], hs[i].Hdr.Namelen))
		}
		if trunc := hs[i].Hdr.Flags&sys.MsgTrunc != 0; trunc != (len(payloads[i]) > 4) {
			t.Errorf("message %d: MSG_TRUNC = %v", i, trunc)
		}
	}
	if n, err := sys.Recvmmsg(fd(b), hs[:], 0); err != syscall.EAGAIN {
		t.Fatalf("Recvmmsg on an empty socket = %d, %v; want EAGAIN", n, err)
	}
	if n, err := sys.Recvmmsg(fd(b), nil, 0); n != 0 || err != nil {
		t.Fatalf("Recvmmsg(nil) = %d, %v", n, err)
	}
}
