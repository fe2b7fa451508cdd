package dtls

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// splitConn sends every DTLS record of a datagram in a datagram of its own,
// as a peer whose flights do not fit its MTU would (RFC 6347 §4.1.1: a
// datagram holds one or more records).
type splitConn struct {
	uring.BatchConn
	one [1]uring.Msg
}

func (c *splitConn) WriteBatch(ms []uring.Msg) (int, error) {
	for i := range ms {
		b := ms[i].Buf
		for len(b) >= recordHeaderLen {
			n := recordHeaderLen + (int(b[11])<<8 | int(b[12]))
			n = min(n, len(b))
			c.one[0] = uring.Msg{Buf: b[:n], Addr: ms[i].Addr}
			if _, err := c.BatchConn.WriteBatch(c.one[:]); err != nil {
				return i, err
			}
			b = b[n:]
		}
		ms[i].N = len(ms[i].Buf)
	}
	return len(ms), nil
}

// rehandshake opens a session from a fixed local port, abandons it without
// close_notify (a device that rebooted), and returns a new session from the
// same port, whose socket is wrapped by wrap.
func rehandshake(t *testing.T, s *Server, wrap func(uring.BatchConn) uring.BatchConn) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	local := pc.LocalAddr().(*net.UDPAddr)
	c1, err := NewClient(ctx, wrap(uring.WrapPacketConn(pc)), serverAddr(s), pskClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c1.Close() })
	get := coapMsg{typ: coapCON, code: coapGET, mid: 1, token: []byte{1}, path: []string{"hello"}}
	exchange(t, c1, c1.RemoteAddr(), get, 5*time.Second)
	pc.Close() // no close_notify: the server still has the session
	pc2, err := net.ListenUDP("udp4", local)
	if err != nil {
		t.Fatal(err)
	}
	ccfg := pskClientConfig()
	ccfg.HandshakeTimeout = 5 * time.Second
	c2, err := NewClient(ctx, wrap(uring.WrapPacketConn(pc2)), serverAddr(s), ccfg)
	if err != nil {
		t.Fatalf("re-handshake from the same address: %v (stats %+v)", err, s.Stats())
	}
	t.Cleanup(func() { c2.Close() })
	return c2
}

// TestRehandshakeFirstDatagram: the client's first datagram after a
// re-handshake from the same address reaches the new session even when it
// arrives before the server has switched the address over to it (the hook
// holds the switch back). It was given to the old session only, which
// cannot decrypt it.
func TestRehandshakeFirstDatagram(t *testing.T) {
	s := listen(t, pskServerConfig())
	hold := func(rehandshake bool) {
		if rehandshake {
			time.Sleep(300 * time.Millisecond)
		}
	}
	s.beforeEstablished.Store(&hold)
	wait := startCoAP(s)
	c2 := rehandshake(t, s, func(c uring.BatchConn) uring.BatchConn { return c })
	get := coapMsg{typ: coapCON, code: coapGET, mid: 2, token: []byte{2}, path: []string{"hello"}}
	// Sent at once, inside the held window; never resent.
	if resp := exchange(t, c2, c2.RemoteAddr(), get, 5*time.Second); !strings.HasPrefix(string(resp.payload), "hello") {
		t.Fatalf("first datagram after the re-handshake: %+v", resp)
	}
	waitFor(t, func() bool { st := s.Stats(); return st.Replaced == 1 && st.Sessions == 1 })
	if st := s.Stats(); st.RehandshakeShared == 0 || st.DroppedPeerQueue != 0 || st.DroppedNoSession != 0 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	if n := wait(); n != 2 {
		t.Fatalf("served %d requests, want 2", n)
	}
}

// TestRehandshakeSplitFlight: a client that sends ChangeCipherSpec and
// Finished in datagrams of their own (not behind an epoch-0 handshake
// record) completes a re-handshake from the address of its old session.
func TestRehandshakeSplitFlight(t *testing.T) {
	s := listen(t, pskServerConfig())
	wait := startCoAP(s)
	c2 := rehandshake(t, s, func(c uring.BatchConn) uring.BatchConn { return &splitConn{BatchConn: c} })
	get := coapMsg{typ: coapCON, code: coapGET, mid: 2, token: []byte{2}, path: []string{"hello"}}
	if resp := exchange(t, c2, c2.RemoteAddr(), get, 5*time.Second); !strings.HasPrefix(string(resp.payload), "hello") {
		t.Fatalf("after the re-handshake: %+v", resp)
	}
	waitFor(t, func() bool { st := s.Stats(); return st.Replaced == 1 && st.Sessions == 1 })
	s.Close()
	wait()
}
