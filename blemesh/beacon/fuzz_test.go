package beacon_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/beacon"
)

// FuzzBeacons: every beacon decoder never panics; what decodes re-encodes
// to the same octets.
func FuzzBeacons(f *testing.F) {
	f.Add(snb)
	f.Add(unhex("0070cf7c9732a345b691494810d2e9cbf4a040"))
	f.Add(unhex("0070cf7c9732a345b691494810d2e9cbf44020d97478b3"))
	k := beacon.NewNetKeys(netKey)
	p := beacon.MeshPrivate{IVIndex: 0x12345678}
	pb, _ := k.SealPrivate(nil, &p)
	f.Add(pb)
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, err := beacon.Type(b)
		if err != nil {
			return
		}
		switch typ {
		case beacon.TypeUnprovisioned:
			var u beacon.Unprovisioned
			if _, err := u.Decode(b); err == nil {
				out, _ := u.AppendBinary(nil)
				if !bytes.Equal(out, b) {
					t.Fatalf("unprovisioned %x -> %x", b, out)
				}
			}
		case beacon.TypeSecureNetwork:
			var s beacon.SecureNetwork
			if err := k.OpenSecure(&s, b); err == nil {
				out, _ := k.SealSecure(nil, &s)
				if !bytes.Equal(out, b) {
					t.Fatalf("secure %x -> %x", b, out)
				}
			}
		case beacon.TypeMeshPrivate:
			var m beacon.MeshPrivate
			if err := k.OpenPrivate(&m, b); err == nil {
				out, _ := k.SealPrivate(nil, &m)
				if !bytes.Equal(out, b) {
					t.Fatalf("private %x -> %x", b, out)
				}
			}
		}
	})
}

// FuzzSealOpenBeacons reaches the Secure Network and Mesh Private beacon
// round trips that FuzzBeacons cannot (random octets do not authenticate):
// it fuzzes the NetKey, flags, IV Index and Random, seals, opens and
// compares, then checks that one flipped bit is rejected.
func FuzzSealOpenBeacons(f *testing.F) {
	f.Add(netKey[:], uint8(0), uint32(0x12345678), make([]byte, 13), uint16(5))
	f.Add(netKey[:], uint8(2), uint32(0x12345679), unhex("435f18f85f3f6ba2a4c9dd5b7a"), uint16(100))
	f.Add(make([]byte, 16), uint8(3), uint32(0xffffffff), []byte{1, 2, 3}, uint16(0))
	f.Fuzz(func(t *testing.T, nk []byte, flags uint8, iv uint32, random []byte, flip uint16) {
		var key [16]byte
		copy(key[:], nk)
		k := beacon.NewNetKeys(key)

		s := beacon.SecureNetwork{Flags: flags, NetworkID: k.NetworkID, IVIndex: iv}
		b, err := k.SealSecure(nil, &s)
		if flags > 3 {
			if err == nil {
				t.Fatalf("secure beacon sealed with flags %#x", flags)
			}
		} else {
			if err != nil {
				t.Fatalf("seal secure: %v", err)
			}
			var back beacon.SecureNetwork
			if err := k.OpenSecure(&back, b); err != nil || back != s {
				t.Fatalf("secure %+v -> %x -> %+v, %v", s, b, back, err)
			}
			bit := int(flip) % (len(b) * 8)
			bad := append([]byte(nil), b...)
			bad[bit/8] ^= 0x80 >> (bit % 8)
			if err := k.OpenSecure(&back, bad); err == nil {
				t.Fatalf("secure beacon with bit %d flipped authenticates", bit)
			}
		}

		p := beacon.MeshPrivate{Flags: flags, IVIndex: iv}
		copy(p.Random[:], random)
		b, err = k.SealPrivate(nil, &p)
		if flags > 3 {
			if err == nil {
				t.Fatalf("private beacon sealed with flags %#x", flags)
			}
			return
		}
		if err != nil {
			t.Fatalf("seal private: %v", err)
		}
		var back beacon.MeshPrivate
		if err := k.OpenPrivate(&back, b); err != nil || back != p {
			t.Fatalf("private %+v -> %x -> %+v, %v", p, b, back, err)
		}
		bit := int(flip) % (len(b) * 8)
		bad := append([]byte(nil), b...)
		bad[bit/8] ^= 0x80 >> (bit % 8)
		if err := k.OpenPrivate(&back, bad); err == nil {
			t.Fatalf("private beacon with bit %d flipped authenticates", bit)
		}
	})
}
