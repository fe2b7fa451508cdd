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
