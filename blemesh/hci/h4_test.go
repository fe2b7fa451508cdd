package hci_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/edgekit/edgekit/blemesh/hci"
)

// An LE Advertising Report of the python demo in the bluez-vm tool: one
// ADV_NONCONN_IND with the Mesh Message AD structure of spec Message #1.
var advReportEvent = []byte{0x04, 0x3e, 0x2b, 0x02, 0x01, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x1f, 0x1d, 0x2a, 0x68, 0xec, 0xa4, 0x87, 0x51, 0x67, 0x65, 0xb5, 0xe5, 0xbf, 0xda, 0xcb, 0xaf, 0x6c, 0xb7,
	0xfb, 0x6b, 0xff, 0x87, 0x1f, 0x03, 0x54, 0x44, 0xce, 0x83, 0xa6, 0x70, 0xdf, 0x00, 0xc4}

var seeds = [][]byte{
	advReportEvent,
	{0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00},             // Command Complete (Reset)
	{0x04, 0x0f, 0x04, 0x00, 0x01, 0x0c, 0x20},             // Command Status
	{0x01, 0x03, 0x0c, 0x00},                               // Reset command
	{0x02, 0x01, 0x20, 0x02, 0x00, 0xaa, 0xbb},             // ACL
	{0x05, 0x01, 0x00, 0x01, 0x00, 0xee},                   // ISO
	{0x03, 0x01, 0x00, 0x01, 0x55},                         // SCO
	{0x04, 0x3e, 0x03, 0x02, 0x01, 0x03},                   // truncated report
	{0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00, 0x04, 0x0e}, // packet + partial
}

func TestParsePacket(t *testing.T) {
	typ, body, n, err := hci.ParsePacket(advReportEvent, 0)
	if err != nil || typ != hci.PacketEvent || n != len(advReportEvent) || len(body) != n-1 {
		t.Fatalf("%d %d %v", typ, n, err)
	}
	var ev hci.Event
	if _, err := ev.Decode(body); err != nil || ev.Code != hci.EvtLEMeta {
		t.Fatal(err)
	}
	it := hci.NewReportIter(ev.Params)
	var r hci.AdvReport
	if !it.Next(&r) || r.EventType != hci.AdvNonconnInd || r.RSSI != -60 || len(r.Data) != 31 || r.Data[1] != 0x2a {
		t.Fatalf("report %+v", r)
	}
	if it.Next(&r) || it.Err() != nil {
		t.Fatal("second report")
	}
	for i := 0; i < len(advReportEvent); i++ {
		if _, _, _, err := hci.ParsePacket(advReportEvent[:i], 0); !errors.Is(err, hci.ErrIncomplete) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, _, _, err := hci.ParsePacket([]byte{0x07, 1}, 0); !errors.Is(err, hci.ErrPacketType) {
		t.Fatal(err)
	}
	if _, _, _, err := hci.ParsePacket(advReportEvent, 20); !errors.Is(err, hci.ErrTooLarge) {
		t.Fatal(err)
	}
}

func TestParseNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	var ev hci.Event
	var r hci.AdvReport
	allocs := testing.AllocsPerRun(100, func() {
		_, body, _, _ := hci.ParsePacket(advReportEvent, 0)
		_, _ = ev.Decode(body)
		it := hci.NewReportIter(ev.Params)
		for it.Next(&r) {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}

// chunky returns its data in reads of varying sizes.
type chunky struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])%7 + 1
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// FuzzParsePacket: ParsePacket never panics, bounds n, and the Framer
// reading the same bytes in random chunks yields the same packets; event
// decoders never panic and events round-trip through AppendEvent.
func FuzzParsePacket(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, []byte{3, 1, 5})
	}
	f.Fuzz(func(t *testing.T, b []byte, sizes []byte) {
		var want [][]byte
		rest := b
		for {
			typ, body, n, err := hci.ParsePacket(rest, 300)
			if err != nil {
				break
			}
			if n < 1 || n > len(rest) || len(body) != n-1 || typ != rest[0] {
				t.Fatalf("n=%d len=%d", n, len(rest))
			}
			want = append(want, rest[:n])
			if typ == hci.PacketEvent {
				var ev hci.Event
				if _, err := ev.Decode(body); err != nil {
					t.Fatalf("event framing accepted but Decode failed: %v", err)
				}
				out, _ := hci.AppendEvent(nil, ev.Code, ev.Params)
				if !bytes.Equal(out, rest[:n]) {
					t.Fatalf("event round trip %x -> %x", rest[:n], out)
				}
				var cc hci.CommandComplete
				_ = cc.Decode(ev.Params)
				var cs hci.CommandStatus
				_ = cs.Decode(ev.Params)
				it := hci.NewReportIter(ev.Params)
				var r hci.AdvReport
				for it.Next(&r) {
					if len(r.Data) > 31 {
						t.Fatal("report data over 31 octets")
					}
				}
			}
			rest = rest[n:]
		}
		fr := hci.NewFramer(&chunky{data: b, sizes: sizes}, 300)
		for i := 0; ; i++ {
			typ, body, err := fr.Next()
			if err != nil {
				if i != len(want) {
					t.Fatalf("framer stopped after %d packets, want %d (%v)", i, len(want), err)
				}
				break
			}
			if i >= len(want) || typ != want[i][0] || !bytes.Equal(body, want[i][1:]) {
				t.Fatalf("framer packet %d differs", i)
			}
		}
	})
}
