//go:build !tinygo

package mqtt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// captureFile holds every packet of a scripted session between
// mosquitto_pub/mosquitto_sub (MQTT 3.1, 3.1.1 and 5) and the mosquitto
// broker, recorded on loopback by TestCaptureMosquitto through a splitting
// proxy. Format, one packet a line:
//
//	# scenario <label> conn <n>
//	<c>s|s>c> <protocol level> <TYPE> <hex bytes>
const captureFile = "testdata/mosquitto-capture.txt"

type capPacket struct {
	label string // scenario and connection
	dir   string // "c>s" client to broker, "s>c" broker to client
	v     Version
	raw   []byte
}

func readCaptures(t testing.TB, path string) []capPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []capPacket
	label := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#") {
			label = strings.TrimSpace(strings.TrimPrefix(l, "#"))
			continue
		}
		fs := strings.Fields(l)
		if len(fs) != 4 {
			t.Fatalf("%s:%d: want 4 fields", path, line)
		}
		v, err := strconv.Atoi(fs[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		raw, err := hex.DecodeString(fs[3])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, capPacket{label, fs[0], Version(v), raw})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip decodes one captured packet and re-encodes it; it returns the
// type and an error describing any difference.
func roundTrip(p capPacket) (PacketType, error) {
	var d Decoded
	typ, n, err := d.Decode(p.raw, p.v)
	if err != nil {
		return typ, fmt.Errorf("decode: %w", err)
	}
	if n != len(p.raw) {
		return typ, fmt.Errorf("decode consumed %d of %d bytes", n, len(p.raw))
	}
	pk := d.Packet(typ)
	out, err := pk.AppendBinary(nil)
	if err != nil {
		return typ, fmt.Errorf("encode: %w", err)
	}
	if !bytes.Equal(out, p.raw) {
		return typ, fmt.Errorf("re-encoded\n  % x\nwant\n  % x", out, p.raw)
	}
	if pk.EncodedLen() != len(p.raw) {
		return typ, fmt.Errorf("EncodedLen %d; want %d", pk.EncodedLen(), len(p.raw))
	}
	return typ, nil
}

// TestCaptures decodes every packet mosquitto and its clients exchanged
// in the committed capture and re-encodes it byte for byte. It needs no
// peer; TestCaptureMosquitto refreshes the file.
func TestCaptures(t *testing.T) {
	pkts := readCaptures(t, captureFile)
	seen := map[Version]map[PacketType]int{}
	for _, p := range pkts {
		typ, err := roundTrip(p)
		if err != nil {
			t.Errorf("%s %s v%d %v: %v", p.label, p.dir, p.v, typ, err)
			continue
		}
		if seen[p.v] == nil {
			seen[p.v] = map[PacketType]int{}
		}
		seen[p.v][typ]++
	}
	checkCoverage(t, seen)
}

// checkCoverage requires every packet type a broker and its clients can
// exchange without an authentication plugin (all but AUTH) in 3.1.1 and 5.
func checkCoverage(t *testing.T, seen map[Version]map[PacketType]int) {
	t.Helper()
	for _, v := range []Version{V311, V5} {
		for typ := TypeConnect; typ <= TypeDisconnect; typ++ {
			if seen[v][typ] == 0 {
				t.Errorf("capture has no %v under MQTT %v", typ, v)
			}
		}
	}
	if seen[V31][TypeConnect] == 0 {
		t.Errorf("capture has no MQTT 3.1 CONNECT")
	}
	t.Logf("packets per version and type: %v", seen)
}
