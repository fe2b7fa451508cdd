package testutil_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// MQTT v3.1.1 packets, built by hand so that this package needs no codec.
// See MQTT 3.1.1 §3.

func mqttString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// mqttPacket prepends the fixed header: the type-and-flags byte and the
// remaining length as a variable byte integer (§2.2.3).
func mqttPacket(first byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	pkt := []byte{first}
	for n := len(b); ; {
		d := byte(n % 128)
		if n /= 128; n > 0 {
			d |= 0x80
		}
		pkt = append(pkt, d)
		if n == 0 {
			break
		}
	}
	return append(pkt, b...)
}

// readMQTT reads one packet and returns its first byte and its body.
func readMQTT(t *testing.T, r io.Reader) (byte, []byte) {
	t.Helper()
	var hdr [1]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("read fixed header: %v", err)
	}
	n, mul := 0, 1
	for i := 0; ; i++ {
		var d [1]byte
		if _, err := io.ReadFull(r, d[:]); err != nil || i == 4 {
			t.Fatalf("read remaining length: %v", err)
		}
		n += int(d[0]&0x7f) * mul
		if d[0]&0x80 == 0 {
			break
		}
		mul *= 128
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatalf("read %d-byte body: %v", n, err)
	}
	return hdr[0], body
}

// TestMosquitto starts a broker, speaks MQTT v3.1.1 to it over raw TCP —
// CONNECT, SUBSCRIBE, a PUBLISH of its own and one from mosquitto_pub — and
// checks that the broker process is gone once the sub-test that owns it ends.
func TestMosquitto(t *testing.T) {
	var addr string
	var pid int
	t.Run("round-trip", func(t *testing.T) {
		broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{
			Extra: []string{"max_keepalive 120"},
		})
		addr, pid = broker.Addr(), broker.Pid()
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("Addr = %q", addr)
		}
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
			t.Fatal(err)
		}
		write := func(p []byte) {
			t.Helper()
			if _, err := conn.Write(p); err != nil {
				t.Fatal(err)
			}
		}

		// CONNECT: protocol name, level 4, flags CleanSession, keep alive 60 s.
		write(mqttPacket(0x10, mqttString("MQTT"), []byte{4, 0x02, 0, 60}, mqttString("edgekit-testutil")))
		if typ, body := readMQTT(t, conn); typ != 0x20 || !bytes.Equal(body, []byte{0, 0}) {
			t.Fatalf("CONNACK = %#x %x; want 0x20 0000", typ, body)
		}

		// SUBSCRIBE id 1 to edgekit/test/# at QoS 0 (flags 0b0010 are required).
		write(mqttPacket(0x82, []byte{0, 1}, mqttString("edgekit/test/#"), []byte{0}))
		if typ, body := readMQTT(t, conn); typ != 0x90 || !bytes.Equal(body, []byte{0, 1, 0}) {
			t.Fatalf("SUBACK = %#x %x; want 0x90 000100", typ, body)
		}

		wantPublish := func(topic, payload string) {
			t.Helper()
			typ, body := readMQTT(t, conn)
			want := append(mqttString(topic), payload...)
			if typ != 0x30 || !bytes.Equal(body, want) {
				t.Fatalf("PUBLISH = %#x %q; want 0x30 %q", typ, body, want)
			}
		}

		// PUBLISH QoS 0 to ourselves.
		write(mqttPacket(0x30, mqttString("edgekit/test/raw"), []byte("hello")))
		wantPublish("edgekit/test/raw", "hello")

		// A second, independent client publishes to us.
		pub := testutil.NeedPeer(t, "mosquitto_pub")
		host, port, _ := net.SplitHostPort(addr)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, pub, "-h", host, "-p", port, "-V", "mqttv311",
			"-i", "edgekit-testutil-pub", "-t", "edgekit/test/pub", "-m", "from mosquitto_pub").CombinedOutput()
		if err != nil {
			t.Fatalf("mosquitto_pub: %v\n%s", err, out)
		}
		wantPublish("edgekit/test/pub", "from mosquitto_pub")

		write([]byte{0xe0, 0}) // DISCONNECT
	})
	if pid == 0 {
		return // skipped or failed to start
	}
	waitGone(t, pid)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the broker was stopped", addr)
	}
}

func TestMosquittoBadConfig(t *testing.T) {
	testutil.NeedPeer(t, "mosquitto")
	wantHelper(t, "mosquitto-bad-config", "", "FAIL",
		"mosquitto (pid", "exited before it was ready", "edgekit_no_such_option")
}
