package numa

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/edgekit/edgekit/internal/sys"
)

// SteerMode is how a reuseport group picks the socket for an incoming
// datagram or connection.
type SteerMode uint8

const (
	// SteerAuto (the zero value) tries SteerCBPF, then SteerIncomingCPU,
	// then settles for SteerHash, and reports which one it got.
	SteerAuto SteerMode = iota
	// SteerCBPF attaches a classic BPF program (SO_ATTACH_REUSEPORT_CBPF)
	// that loads the receiving CPU (ld #cpu, the SKF_AD_CPU ancillary
	// load) and returns the index of that CPU's socket. It needs no
	// privilege.
	SteerCBPF
	// SteerEBPF attaches an eBPF socket-filter program built in Go with
	// github.com/cilium/ebpf/asm (SO_ATTACH_REUSEPORT_EBPF) that calls
	// bpf_get_smp_processor_id. It needs CAP_BPF (or unprivileged BPF).
	SteerEBPF
	// SteerIncomingCPU sets SO_INCOMING_CPU on every socket to its CPU;
	// Linux 6.2+ then prefers the socket whose CPU received the packet.
	SteerIncomingCPU
	// SteerHash leaves the choice to the kernel's 4-tuple hash: spreading
	// without locality.
	SteerHash
)

func (m SteerMode) String() string {
	switch m {
	case SteerAuto:
		return "auto"
	case SteerCBPF:
		return "cbpf"
	case SteerEBPF:
		return "ebpf"
	case SteerIncomingCPU:
		return "incoming-cpu"
	case SteerHash:
		return "hash"
	}
	return "SteerMode(" + strconv.Itoa(int(m)) + ")"
}

// SteerConfig configures ListenUDP and ListenTCP. The zero value opens one
// socket per CPU the calling thread may run on, with SteerAuto.
type SteerConfig struct {
	// CPUs lists the CPUs to open a socket for, socket i for CPUs[i]; nil
	// means the CPUs in the calling thread's affinity mask.
	CPUs []int
	// Mode picks the steering; see SteerMode. A mode other than SteerAuto
	// that the kernel refuses fails the listen.
	Mode SteerMode
	// Control, if set, runs on every socket after SO_REUSEPORT is set and
	// before bind, as net.ListenConfig.Control does.
	Control func(network, address string, c syscall.RawConn) error
}

// ErrBadSteerConfig reports an invalid SteerConfig.
var ErrBadSteerConfig = errors.New("numa: invalid steering config")

// maxGroup bounds the sockets of a group: the kernel's reuseport groups
// hold at most 65535 sockets, and a jump-table program grows with the
// group.
const maxGroup = 1024

// UDPGroup is a reuseport group of UDP sockets bound to one address, one
// per CPU, with the datagrams a CPU receives steered to that CPU's socket.
// Serve Conns[i] from a goroutine pinned to CPUs[i] (see RunPinned) to keep
// a datagram on the CPU that received it. Its methods are safe for
// concurrent use; the conns are ordinary *net.UDPConn.
type UDPGroup struct {
	Conns  []*net.UDPConn
	CPUs   []int
	mode   SteerMode
	reason string
}

// TCPGroup is ListenUDP's TCP counterpart: one listener per CPU, with new
// connections steered to the listener of the CPU that received the SYN.
type TCPGroup struct {
	Listeners []*net.TCPListener
	CPUs      []int
	mode      SteerMode
	reason    string
}

// Mode reports the steering in effect.
func (g *UDPGroup) Mode() SteerMode { return g.mode }

// Report says which steering mode is active and why.
func (g *UDPGroup) Report() string { return g.reason }

// Addr returns the address the group is bound to.
func (g *UDPGroup) Addr() net.Addr { return g.Conns[0].LocalAddr() }

// Close closes every socket of the group.
func (g *UDPGroup) Close() error {
	var errs []error
	for _, c := range g.Conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Mode reports the steering in effect.
func (g *TCPGroup) Mode() SteerMode { return g.mode }

// Report says which steering mode is active and why.
func (g *TCPGroup) Report() string { return g.reason }

// Addr returns the address the group is bound to.
func (g *TCPGroup) Addr() net.Addr { return g.Listeners[0].Addr() }

// Close closes every listener of the group.
func (g *TCPGroup) Close() error {
	var errs []error
	for _, l := range g.Listeners {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// ListenUDP opens a reuseport group of UDP sockets on address ("udp",
// "udp4" or "udp6" network), one per CPU of cfg.CPUs, and steers each
// datagram to the socket of the CPU that received it. Port 0 picks one
// free port for the whole group. Off Linux it returns an error wrapping
// errors.ErrUnsupported.
func ListenUDP(ctx context.Context, network, address string, cfg SteerConfig) (*UDPGroup, error) {
	g := &UDPGroup{}
	err := listenGroup(ctx, network, address, cfg, &g.CPUs, &g.mode, &g.reason, func(lc *net.ListenConfig, addr string) (syscall.Conn, net.Addr, error) {
		pc, err := lc.ListenPacket(ctx, network, addr)
		if err != nil {
			return nil, nil, err
		}
		c := pc.(*net.UDPConn)
		g.Conns = append(g.Conns, c)
		return c, c.LocalAddr(), nil
	})
	if err != nil {
		for _, c := range g.Conns {
			c.Close()
		}
		return nil, err
	}
	return g, nil
}

// ListenTCP is ListenUDP for TCP listeners ("tcp", "tcp4" or "tcp6").
func ListenTCP(ctx context.Context, network, address string, cfg SteerConfig) (*TCPGroup, error) {
	g := &TCPGroup{}
	err := listenGroup(ctx, network, address, cfg, &g.CPUs, &g.mode, &g.reason, func(lc *net.ListenConfig, addr string) (syscall.Conn, net.Addr, error) {
		l, err := lc.Listen(ctx, network, addr)
		if err != nil {
			return nil, nil, err
		}
		tl := l.(*net.TCPListener)
		g.Listeners = append(g.Listeners, tl)
		return tl, tl.Addr(), nil
	})
	if err != nil {
		for _, l := range g.Listeners {
			l.Close()
		}
		return nil, err
	}
	return g, nil
}

func listenGroup(ctx context.Context, network, address string, cfg SteerConfig, cpusOut *[]int, modeOut *SteerMode, reason *string,
	open func(lc *net.ListenConfig, addr string) (syscall.Conn, net.Addr, error)) error {
	cpus := cfg.CPUs
	if cpus == nil {
		var err error
		if cpus, err = sys.AppendAffinity(nil); err != nil {
			return fmt.Errorf("numa: listen %s: %w", network, err)
		}
	}
	if len(cpus) == 0 || len(cpus) > maxGroup {
		return fmt.Errorf("%w: %d cpus; want 1..%d", ErrBadSteerConfig, len(cpus), maxGroup)
	}
	for i, c := range cpus {
		if c < 0 || contains(cpus[:i], c) {
			return fmt.Errorf("%w: cpu list %v", ErrBadSteerConfig, cpus)
		}
	}
	if cfg.Mode > SteerHash {
		return fmt.Errorf("%w: mode %v", ErrBadSteerConfig, cfg.Mode)
	}
	mode := cfg.Mode
	*cpusOut = append([]int(nil), cpus...)

	var (
		first      syscall.Conn
		addr       = address
		sockCPU    int
		incomingOK = true // SO_INCOMING_CPU took on every socket
	)
	lc := &net.ListenConfig{Control: func(nw, a string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			if serr = sys.SetReusePort(fd, true); serr != nil {
				return
			}
			if mode == SteerIncomingCPU || mode == SteerAuto {
				if err := sys.SetIncomingCPU(fd, sockCPU); err != nil {
					incomingOK = false
					if mode == SteerIncomingCPU {
						serr = err
					}
				}
			}
		}); err != nil {
			return err
		}
		if serr != nil {
			return serr
		}
		if cfg.Control != nil {
			return cfg.Control(nw, a, c)
		}
		return nil
	}}
	// Go 1.24+ listens with MPTCP where the kernel has it, and MPTCP
	// sockets refuse the reuseport BPF options (EOPNOTSUPP): steer plain TCP.
	lc.SetMultipathTCP(false)
	for i, cpu := range cpus {
		if err := ctx.Err(); err != nil {
			return err
		}
		sockCPU = cpu
		c, la, err := open(lc, addr)
		if err != nil {
			return fmt.Errorf("numa: listen %s %s (socket %d of %d): %w", network, addr, i+1, len(cpus), err)
		}
		if i == 0 {
			first = c
			// Every later socket joins the group on the same port.
			host, _, _ := net.SplitHostPort(address)
			_, port, _ := net.SplitHostPort(la.String())
			addr = net.JoinHostPort(host, port)
		}
	}
	rc, err := first.SyscallConn()
	if err != nil {
		return err
	}
	return attachSteering(rc, cpus, mode, incomingOK, modeOut, reason)
}

func attachSteering(rc syscall.RawConn, cpus []int, mode SteerMode, incomingOK bool, modeOut *SteerMode, reason *string) error {
	var err error
	switch mode {
	case SteerCBPF, SteerAuto:
		prog := cpuSteerCBPF(cpus)
		if cerr := rc.Control(func(fd uintptr) { err = sys.AttachReuseportCBPF(fd, prog) }); cerr != nil {
			err = cerr
		}
		if err == nil {
			*modeOut, *reason = SteerCBPF, "cbpf: ld #cpu program ("+strconv.Itoa(len(prog))+" instructions) attached with SO_ATTACH_REUSEPORT_CBPF"
			return nil
		}
		if mode == SteerCBPF {
			return fmt.Errorf("numa: steering: %w", err)
		}
		if incomingOK {
			*modeOut, *reason = SteerIncomingCPU, "incoming-cpu: SO_ATTACH_REUSEPORT_CBPF failed ("+err.Error()+"); sockets carry SO_INCOMING_CPU"
			return nil
		}
		*modeOut, *reason = SteerHash, "hash: SO_ATTACH_REUSEPORT_CBPF failed ("+err.Error()+") and SO_INCOMING_CPU is not available; the kernel hashes the 4-tuple"
		return nil
	case SteerEBPF:
		if cerr := rc.Control(func(fd uintptr) { err = attachCPUSteerEBPF(fd, cpus) }); cerr != nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("numa: steering: %w", err)
		}
		*modeOut, *reason = SteerEBPF, "ebpf: bpf_get_smp_processor_id socket filter attached with SO_ATTACH_REUSEPORT_EBPF"
	case SteerIncomingCPU:
		*modeOut, *reason = SteerIncomingCPU, "incoming-cpu: every socket carries SO_INCOMING_CPU (honoured by reuseport groups since Linux 6.2)"
	case SteerHash:
		*modeOut, *reason = SteerHash, "hash: no steering requested; the kernel hashes the 4-tuple"
	}
	return nil
}

// identityCPUs reports whether cpus is 0, 1, ..., n-1.
func identityCPUs(cpus []int) bool {
	for i, c := range cpus {
		if c != i {
			return false
		}
	}
	return true
}

// cpuSteerCBPF builds the classic BPF reuseport program. For CPUs 0..n-1 it
// is the textbook three instructions:
//
//	ld #cpu        ; A = the CPU processing the packet (SKF_AD_OFF+SKF_AD_CPU)
//	mod #n         ; A %= group size
//	ret a          ; index of the socket to deliver to
//
// For any other CPU list it first compares A with each CPUs[i] and returns i
// on a match, then falls back to the modulo.
func cpuSteerCBPF(cpus []int) []sys.SockFilter {
	n := uint32(len(cpus))
	prog := []sys.SockFilter{{Code: sys.BPFLdWAbs, K: sys.SKFAdOff + sys.SKFAdCPU}}
	if !identityCPUs(cpus) {
		const jeqK = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
		for i, c := range cpus {
			prog = append(prog,
				sys.SockFilter{Code: jeqK, Jt: 0, Jf: 1, K: uint32(c)},
				sys.SockFilter{Code: sys.BPFRetK, K: uint32(i)})
		}
	}
	return append(prog,
		sys.SockFilter{Code: sys.BPFAluModK, K: n},
		sys.SockFilter{Code: sys.BPFRetA})
}
