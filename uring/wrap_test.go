package uring_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// hiddenPC hides the *net.UDPConn type so WrapPacketConn takes its generic
// ReadFrom/WriteTo path.
type hiddenPC struct{ net.PacketConn }

// unixAddrPC reports a non-UDP source address.
type unixAddrPC struct{ net.PacketConn }

func (p unixAddrPC) ReadFrom(b []byte) (int, net.Addr, error) {
	n, _, err := p.PacketConn.ReadFrom(b)
	return n, &net.UnixAddr{Name: "x", Net: "unixgram"}, err
}

func TestWrapPacketConn(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(net.PacketConn) net.PacketConn
	}{
		{"UDPConn", func(pc net.PacketConn) net.PacketConn { return pc }},
		{"PacketConn", func(pc net.PacketConn) net.PacketConn { return hiddenPC{pc} }},
	} {
		for _, lb := range loopbacks {
			t.Run(tc.name+"/"+lb.network, func(t *testing.T) {
				pa, err := net.ListenPacket(lb.network, lb.addr)
				if err != nil {
					t.Skip(err)
				}
				pb, err := net.ListenPacket(lb.network, lb.addr)
				if err != nil {
					t.Fatal(err)
				}
				a, b := uring.WrapPacketConn(tc.wrap(pa)), uring.WrapPacketConn(tc.wrap(pb))
				defer a.Close()
				defer b.Close()
				if a.LocalAddr().String() != pa.LocalAddr().String() {
					t.Fatalf("LocalAddr %v; want %v", a.LocalAddr(), pa.LocalAddr())
				}
				to := addrPort(t, b)
				out := []uring.Msg{{Buf: []byte("first"), Addr: to}, {Buf: []byte("second"), Addr: to}}
				if n, err := a.WriteBatch(out); n != 2 || err != nil || out[1].N != 6 {
					t.Fatalf("WriteBatch = %d, %v (N=%d)", n, err, out[1].N)
				}
				if n, err := b.ReadBatch(nil); n != 0 || err != nil {
					t.Fatalf("ReadBatch(nil) = %d, %v", n, err)
				}
				size, want := 3, []string{"fir", "sec"} // cut to 3 bytes
				if !msgTruncSupported {
					size, want = 64, []string{"first", "second"}
				}
				got := readN(t, b, 2, size) // one per call
				for i, want := range want {
					if string(got[i].Buf) != want || got[i].Addr != addrPort(t, a) {
						t.Errorf("datagram %d = %q from %v", i, got[i].Buf, got[i].Addr)
					}
					// Only the UDPConn path can see MSG_TRUNC.
					if tc.name == "UDPConn" && got[i].Flags&uring.FlagTrunc == 0 && msgTruncSupported {
						t.Errorf("datagram %d: FlagTrunc not set", i)
					}
				}
				_ = b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				if _, err := b.ReadBatch(msgs(1, 8)); err == nil {
					t.Fatal("ReadBatch past the deadline succeeded")
				}
				// An unreachable destination fails at its index.
				bad := []uring.Msg{{Buf: []byte("x"), Addr: to}, {Buf: []byte("y")}}
				if n, err := a.WriteBatch(bad); n != 1 || err == nil {
					t.Fatalf("WriteBatch with invalid address = %d, %v", n, err)
				}
			})
		}
	}
}

func TestWrapNonUDPAddress(t *testing.T) {
	pa, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := uring.WrapPacketConn(unixAddrPC{pa})
	defer w.Close()
	tx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if _, err := tx.WriteTo([]byte("x"), pa.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = w.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := w.ReadBatch(msgs(1, 8)); n != 0 || err == nil {
		t.Fatalf("ReadBatch = %d, %v; want a non-UDP address error", n, err)
	}
}

func TestWrapClosed(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := uring.WrapPacketConn(pc)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadBatch(msgs(1, 8)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadBatch after Close: %v", err)
	}
	if _, err := w.WriteBatch([]uring.Msg{{Buf: []byte("x"), Addr: netip.MustParseAddrPort("127.0.0.1:9")}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteBatch after Close: %v", err)
	}
}

func TestUpgrade(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := uring.Upgrade(pc, uring.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	if c, ok := bc.(*uring.Conn); !ok || c.Backend() == uring.BackendAuto {
		t.Fatalf("Upgrade(*net.UDPConn) = %T", bc)
	}
	pc2, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc2.Close()
	if bc, err := uring.Upgrade(hiddenPC{pc2}, uring.Config{}); err != nil {
		t.Fatal(err)
	} else if _, ok := bc.(*uring.Conn); ok {
		t.Fatal("Upgrade of a non-UDPConn returned a Conn")
	}
	if _, err := uring.Upgrade(hiddenPC{pc2}, uring.Config{Backend: uring.BackendMmsg}); !errors.As(err, new(uring.RefusedError)) {
		t.Fatalf("forced mmsg on a non-UDPConn: %v", err)
	}
}
