//go:build !tinygo

package mqtt

import (
	"errors"
	"io"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// mosquittoLenient are the strict cases mosquitto 2.0.11 lets through
// (it keeps the connection and answers a following PINGREQ, or accepts
// the CONNECT); every other client-to-server case it rejects, as we do.
// The list documents where this codec is stricter than the reference
// broker; a change in either shows up here.
var mosquittoLenient = map[string]bool{
	"connect/v5/auth-data-no-method": true,
	"pingreq/long":                   true,
	"puback/v311/long":               true,
	"puback/v5/code-for-pubrel":      true,
	"pubcomp/v5/trailing":            true,
	"publish/dup-qos0":               true,
	"publish/v5/payload-format-2":    true,
	"publish/v5/response-topic-wild": true,
	"publish/v5/sub-id-0":            true,
	"pubrel/v5/code-for-puback":      true,
	"subscribe/v5/share-empty-name":  true,
	"subscribe/v5/share-no-filter":   true,
	"subscribe/v5/share-wild-name":   true,
	"subscribe/v5/shared-no-local":   true,
	"varint-nonminimal":              true,
}

// TestMosquittoRejects is a differential test against a real broker: each
// strict case a client could send goes to mosquitto (after a valid CONNECT
// when it is not one itself), and we record whether mosquitto rejected it
// (closed the connection, or answered with a failure CONNACK or a
// DISCONNECT) or went on (accepted the CONNECT, or answered a PINGREQ sent
// after it).
func TestMosquittoRejects(t *testing.T) {
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{Lifetime: time.Minute})
	var lenient []string
	for _, c := range strictCases {
		typ := PacketType(c.wire[0] >> 4)
		if typ == 0 || flowsTo[typ]&(1<<RoleServer) == 0 || typ == TypeDisconnect {
			continue // DISCONNECT closes the connection whether valid or not
		}
		accepted, how, err := sendToMosquitto(broker.Addr(), c.v, typ, c.wire)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%-34s mosquitto: %s", c.name, how)
		if accepted {
			lenient = append(lenient, c.name)
		}
		if accepted != mosquittoLenient[c.name] {
			t.Errorf("%s: mosquitto accepted=%v (%s); pinned %v", c.name, accepted, how, mosquittoLenient[c.name])
		}
	}
	sort.Strings(lenient)
	t.Logf("mosquitto accepts %d of the cases we reject: %s", len(lenient), strings.Join(lenient, ", "))
}

func sendToMosquitto(addr string, v Version, typ PacketType, wire []byte) (accepted bool, how string, err error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false, "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	fr := NewFramer(conn, conn, FramerConfig{Version: v})
	if typ != TypeConnect {
		if v == 0 {
			v = V311
		}
		if err := fr.WritePacket(&Connect{Version: v, CleanStart: true, ClientID: []byte("strict")}); err != nil {
			return false, "", err
		}
		h, _, err := fr.ReadRaw()
		if err != nil || h.Type != TypeConnack {
			return false, "", errors.New("no CONNACK for a valid CONNECT")
		}
	}
	if err := fr.WriteRaw(wire); err != nil {
		return false, "", err
	}
	if typ != TypeConnect {
		if err := fr.WriteRaw([]byte{0xc0, 0x00}); err != nil {
			return false, "closed before PINGREQ", nil
		}
	}
	for {
		h, raw, err := fr.ReadRaw()
		if err != nil {
			var ne net.Error
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &ne) || !ne.Timeout() {
				return false, "closed the connection", nil
			}
			return false, "", errors.New("no answer within 3 s")
		}
		switch h.Type {
		case TypeConnack:
			code := raw[len(raw)-1]
			if v == V5 && len(raw) > 4 {
				code = raw[3]
			}
			if code == 0 {
				return true, "CONNACK success", nil
			}
			if v != V5 {
				return false, "CONNACK return code " + string('0'+code), nil
			}
			return false, "CONNACK " + ReasonCode(code).String(), nil
		case TypeDisconnect:
			if len(raw) > 2 {
				return false, "DISCONNECT " + ReasonCode(raw[2]).String(), nil
			}
			return false, "DISCONNECT", nil
		case TypePingresp:
			return true, "answered PINGREQ", nil
		}
		// Other packets (PUBACK, SUBACK, ...): keep reading.
	}
}
