package access_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
)

// FuzzPayload: opcode parsing never panics and round-trips.
func FuzzPayload(f *testing.F) {
	for _, s := range []string{"0056341263964771734fbd76e3b40519d1d94a48", "800300563412", "0400000000", "d50a0048656c6c6f"} {
		f.Add(unhex(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p access.Payload
		if _, err := p.Decode(b); err != nil {
			return
		}
		out, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x, %v", b, out, err)
		}
	})
}

// FuzzComposition: Composition Data page 0 never panics and round-trips.
func FuzzComposition(f *testing.F) {
	f.Add(comp)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c access.CompositionPage0
		if _, err := c.Decode(b); err != nil {
			return
		}
		it := c.Iter()
		var e access.Element
		for it.Next(&e) {
			_ = e.SIGModels
		}
		out, err := c.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %x -> %x, %v", b, out, err)
		}
	})
}

// FuzzConfig: configuration message decoders never panic and round-trip.
func FuzzConfig(f *testing.F) {
	f.Add(uint8(0), unhex("56341263964771734fbd76e3b40519d1d94a48"))
	f.Add(uint8(1), unhex("00563412"))
	f.Add(uint8(2), unhex("010000c00310ff0a230010"))
	f.Add(uint8(3), unhex("010000003f002a00"))
	f.Add(uint8(4), unhex("000000010703"))
	f.Add(uint8(8), unhex("005604"))
	f.Add(uint8(9), unhex("00011223010010"))
	f.Add(uint8(9), unhex("0001122301"+"3f002a00"))
	f.Add(uint8(10), unhex("05"))
	f.Add(uint8(11), unhex("3f00"))
	f.Add(uint8(12), unhex("013f00"))
	f.Add(uint8(13), unhex("00c002030507005604"))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		type codec interface {
			Decode([]byte) (int, error)
			AppendBinary([]byte) ([]byte, error)
		}
		var m codec
		switch which % 14 {
		case 0:
			m = new(access.AppKeyAdd)
		case 1:
			m = new(access.AppKeyStatus)
		case 2:
			m = new(access.ModelPublication)
		case 3:
			m = new(access.ModelAppBind)
		case 4:
			m = new(access.HealthStatus)
		case 5:
			m = new(access.ModelSubscription)
		case 6:
			m = new(access.NetKeyAdd)
		case 7:
			m = new(access.Relay)
		case 8:
			m = new(access.NetKeyStatus)
		case 9:
			m = new(access.ModelAppStatus)
		case 10:
			m = new(access.OneOctet)
		case 11:
			m = new(access.HealthFaultGet)
		case 12:
			m = new(access.HealthFaultTest)
		default:
			m = new(access.HeartbeatPublication)
		}
		if _, err := m.Decode(b); err != nil {
			return
		}
		out, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("round trip %d %x -> %x, %v", which%14, b, out, err)
		}
	})
}

// FuzzDecodeFields: the layout walker never panics and accounts for every
// octet of a message it accepts.
func FuzzDecodeFields(f *testing.F) {
	f.Add(uint16(0x8003), unhex("00563412"))
	f.Add(uint16(0x80b4), unhex("0101f0ff0300c000"))
	f.Add(uint16(0x803d), unhex("011223010010"))
	f.Fuzz(func(t *testing.T, op uint16, b []byte) {
		fs, err := access.DecodeFields(access.Opcode(op), b, nil)
		if err != nil {
			return
		}
		n := 0
		for _, x := range fs {
			if x.IsBytes {
				n += len(x.Bytes)
			}
		}
		if n > len(b) {
			t.Fatalf("fields cover %d of %d octets", n, len(b))
		}
	})
}
