package sys_test

import (
	"errors"
	"net"
	"runtime"
	"syscall"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
)

func rawConn(t *testing.T, c syscall.Conn) syscall.RawConn {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func control(t *testing.T, rc syscall.RawConn, f func(fd uintptr) error) error {
	t.Helper()
	var err error
	if cerr := rc.Control(func(fd uintptr) { err = f(fd) }); cerr != nil {
		t.Fatal(cerr)
	}
	return err
}

// TestReuseportOptions sets SO_REUSEPORT before bind through a
// net.ListenConfig hook, joins a second socket to the group, attaches and
// detaches classic and bad programs, and round-trips SO_INCOMING_CPU.
func TestReuseportOptions(t *testing.T) {
	if runtime.GOOS != "linux" {
		wantUnsupported(t, "SetReusePort", sys.SetReusePort(0, true))
		wantUnsupported(t, "AttachReuseportCBPF", sys.AttachReuseportCBPF(0, []sys.SockFilter{{Code: sys.BPFRetK}}))
		wantUnsupported(t, "AttachReuseportEBPF", sys.AttachReuseportEBPF(0, 0))
		wantUnsupported(t, "SetIncomingCPU", sys.SetIncomingCPU(0, 0))
		return
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return control(t, c, func(fd uintptr) error { return sys.SetReusePort(fd, true) })
	}}
	a, err := lc.ListenPacket(t.Context(), "udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := lc.ListenPacket(t.Context(), "udp4", a.LocalAddr().String())
	if err != nil {
		t.Fatalf("second socket on the same port: %v", err)
	}
	defer b.Close()
	rc := rawConn(t, a.(*net.UDPConn))

	prog := []sys.SockFilter{
		{Code: sys.BPFLdWAbs, K: sys.SKFAdOff + sys.SKFAdCPU},
		{Code: sys.BPFAluModK, K: 2},
		{Code: sys.BPFRetA},
	}
	err = control(t, rc, func(fd uintptr) error { return sys.AttachReuseportCBPF(fd, prog) })
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err) // qemu-user does not pass these options through
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := control(t, rc, sys.DetachReuseportBPF); err != nil {
		t.Fatal(err)
	}
	// Division by zero is rejected by the kernel's checker; empty programs
	// by us.
	bad := []sys.SockFilter{{Code: sys.BPFAluModK, K: 0}, {Code: sys.BPFRetA}}
	if err := control(t, rc, func(fd uintptr) error { return sys.AttachReuseportCBPF(fd, bad) }); err == nil {
		t.Error("mod #0 program accepted")
	}
	if err := control(t, rc, func(fd uintptr) error { return sys.AttachReuseportCBPF(fd, nil) }); err == nil {
		t.Error("empty program accepted")
	}
	if err := control(t, rc, func(fd uintptr) error { return sys.AttachReuseportEBPF(fd, -1) }); err == nil {
		t.Error("eBPF attach of fd -1 accepted")
	}

	if err := control(t, rc, func(fd uintptr) error { return sys.SetIncomingCPU(fd, 1) }); err != nil {
		t.Fatal(err)
	}
	var cpu int
	if err := control(t, rc, func(fd uintptr) (err error) { cpu, err = sys.IncomingCPU(fd); return err }); err != nil || cpu != 1 {
		t.Errorf("IncomingCPU = %d, %v; want 1", cpu, err)
	}
}
