package testutil_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// TestCoAPServer starts libcoap's server and GETs "/" with a hand-built
// Confirmable request (RFC 7252 §3), expecting a piggybacked 2.05 Content
// that names libcoap, then checks the server is gone after its sub-test.
func TestCoAPServer(t *testing.T) {
	var pid int
	t.Run("get", func(t *testing.T) {
		srv := testutil.StartCoAPServer(t, testutil.CoAPServerConfig{})
		pid = srv.Pid()
		conn, err := net.Dial("udp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()

		// Ver 1, CON, TKL 2 | code 0.01 GET | Message ID 0xed01 | token;
		// no options: the path is "/".
		req := []byte{0x42, 0x01, 0xed, 0x01, 0xca, 0xfe}
		var resp []byte
		buf := make([]byte, 2048)
		// Loopback seldom drops a datagram, but retransmit (bounded) if it does.
		for try := 0; try < 3 && resp == nil; try++ {
			if _, err := conn.Write(req); err != nil {
				t.Fatal(err)
			}
			if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := conn.Read(buf)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			resp = buf[:n]
		}
		if resp == nil {
			t.Fatal("no response to GET / after 3 tries")
		}
		// Ver 1, ACK, TKL 2 | 2.05 Content | same Message ID | same token.
		if len(resp) < 6 || !bytes.Equal(resp[:6], []byte{0x62, 0x45, 0xed, 0x01, 0xca, 0xfe}) {
			t.Fatalf("response header % x; want 62 45 ed 01 ca fe", resp[:min(len(resp), 6)])
		}
		i := bytes.IndexByte(resp[6:], 0xff) // payload marker, after the options
		if i < 0 || !bytes.Contains(resp[6+i+1:], []byte("libcoap")) {
			t.Fatalf("response payload does not name libcoap: %q", resp)
		}
	})
	if pid != 0 {
		waitGone(t, pid)
	}
}
