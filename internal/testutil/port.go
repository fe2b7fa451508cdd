package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreePort returns a port on 127.0.0.1 that was free for network ("tcp",
// "tcp4", "udp" or "udp4") when FreePort returned: it binds port 0, reads the
// port the kernel chose, and closes the socket again. Another process may take
// the port before the caller binds it; [StartMosquitto] and
// [StartCoAPServer] retry on a fresh port when their peer finds it in use.
func FreePort(tb testing.TB, network string) int {
	tb.Helper()
	var (
		c   interface{ Close() error }
		a   net.Addr
		err error
	)
	switch network {
	case "tcp", "tcp4":
		var l net.Listener
		if l, err = net.Listen("tcp4", "127.0.0.1:0"); err == nil {
			c, a = l, l.Addr()
		}
	case "udp", "udp4":
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err == nil {
			c, a = pc, pc.LocalAddr()
		}
	default:
		tb.Fatalf("testutil.FreePort: network %q; want tcp or udp (127.0.0.1 only)", network)
	}
	if err != nil {
		tb.Fatalf("testutil.FreePort(%s): %v", network, err)
	}
	_, port, err := net.SplitHostPort(a.String())
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatalf("testutil.FreePort(%s): %v", network, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatalf("testutil.FreePort(%s): %v", network, err)
	}
	return n
}

// LoopbackAddr returns "127.0.0.1:port".
func LoopbackAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
