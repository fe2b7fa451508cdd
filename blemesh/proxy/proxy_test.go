package proxy

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/crypto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// PB-GATT SAR sample, Mesh Protocol 1.1 §8.8: the provisioner's Public Key
// PDU over an ATT MTU of 23.
const (
	sarPayload = "032c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4f"
)

var sarValues = []string{
	"43032c31a47b5779809ef44cb5eaaf5c3e43d5f8",
	"83faad4a8794cb987e9b03745c78dd9195121838",
	"8398dfbecd52e2408e43871fd021109117bd3ed4",
	"c3eaf8437743715d4f",
}

func TestSegmenterSample(t *testing.T) {
	payload := unhex(t, sarPayload)
	s, err := NewSegmenter(23, TypeProvisioning, payload)
	if err != nil {
		t.Fatal(err)
	}
	if s.Remaining() != len(sarValues) || Segments(23, len(payload)) != len(sarValues) {
		t.Fatalf("Remaining %d Segments %d; want %d", s.Remaining(), Segments(23, len(payload)), len(sarValues))
	}
	var got []string
	for v, ok := s.Next(nil); ok; v, ok = s.Next(nil) {
		got = append(got, hex.EncodeToString(v))
	}
	if len(got) != len(sarValues) {
		t.Fatalf("got %d values; want %d", len(got), len(sarValues))
	}
	for i := range got {
		if got[i] != sarValues[i] {
			t.Errorf("value %d = %s; want %s", i, got[i], sarValues[i])
		}
	}
	if s.Remaining() != 0 {
		t.Errorf("Remaining after end = %d", s.Remaining())
	}
}

func TestReassemblerSample(t *testing.T) {
	r, err := NewReassembler(Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	for i, v := range sarValues {
		typ, msg, done, err := r.Feed(now, unhex(t, v))
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if done != (i == len(sarValues)-1) {
			t.Fatalf("value %d: done = %v", i, done)
		}
		if done {
			if typ != TypeProvisioning || hex.EncodeToString(msg) != sarPayload {
				t.Fatalf("got %v %x", typ, msg)
			}
		}
	}
}

func TestSegmenterComplete(t *testing.T) {
	s, _ := NewSegmenter(23, TypeNetwork, []byte{1, 2, 3})
	v, ok := s.Next(nil)
	if !ok || !bytes.Equal(v, []byte{0x00, 1, 2, 3}) {
		t.Fatalf("got %x %v", v, ok)
	}
	if _, ok := s.Next(nil); ok {
		t.Fatal("second PDU from a one-PDU message")
	}
	// Exactly MTU-4 octets still fit one PDU; one more needs two.
	s, _ = NewSegmenter(23, TypeBeacon, make([]byte, 19))
	if s.Remaining() != 1 {
		t.Fatalf("19 octets: %d PDUs", s.Remaining())
	}
	s, _ = NewSegmenter(23, TypeBeacon, make([]byte, 20))
	if s.Remaining() != 2 {
		t.Fatalf("20 octets: %d PDUs", s.Remaining())
	}
	// An empty message is one complete PDU carrying only the header.
	s, _ = NewSegmenter(23, TypeConfig, nil)
	v, ok = s.Next(nil)
	if !ok || !bytes.Equal(v, []byte{0x02}) {
		t.Fatalf("empty message: %x %v", v, ok)
	}
	if _, err := NewSegmenter(22, TypeNetwork, nil); !errors.Is(err, ErrMTU) {
		t.Errorf("MTU 22: %v", err)
	}
	if _, err := NewSegmenter(518, TypeNetwork, nil); !errors.Is(err, ErrMTU) {
		t.Errorf("MTU 518: %v", err)
	}
	if _, err := NewSegmenter(23, 0x40, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("type 0x40: %v", err)
	}
}

func TestRoundTripMTUs(t *testing.T) {
	msg := make([]byte, 200)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	r, _ := NewReassembler(Config{})
	now := time.Unix(0, 0)
	for mtu := MinATTMTU; mtu <= 240; mtu += 13 {
		for _, n := range []int{0, 1, mtu - 4, mtu - 3, 2*(mtu-4) + 1, 200} {
			if n > len(msg) {
				continue
			}
			s, err := NewSegmenter(mtu, TypeConfig, msg[:n])
			if err != nil {
				t.Fatal(err)
			}
			want := s.Remaining()
			count := 0
			var out []byte
			for v, ok := s.Next(nil); ok; v, ok = s.Next(nil) {
				count++
				if len(v) > mtu-3 {
					t.Fatalf("mtu %d: value of %d octets", mtu, len(v))
				}
				typ, m, done, err := r.Feed(now, v)
				if err != nil {
					t.Fatalf("mtu %d n %d: %v", mtu, n, err)
				}
				if done {
					if typ != TypeConfig {
						t.Fatalf("type %v", typ)
					}
					out = append([]byte(nil), m...)
				}
			}
			if count != want || !bytes.Equal(out, msg[:n]) {
				t.Fatalf("mtu %d n %d: %d PDUs (want %d), got %x", mtu, n, count, want, out)
			}
		}
	}
}

func TestReassemblerErrors(t *testing.T) {
	now := time.Unix(0, 0)
	feed := func(r *Reassembler, hexs ...string) error {
		var err error
		for _, h := range hexs {
			_, _, _, err = r.Feed(now, unhex(t, h))
			if err != nil {
				return err
			}
		}
		return nil
	}
	r, _ := NewReassembler(Config{MaxMessageSize: 4})
	cases := []struct {
		name string
		in   []string
		want error
	}{
		{"empty value", []string{""}, ErrShort},
		{"segment without data", []string{"40"}, ErrShort},
		{"continuation first", []string{"8001"}, ErrUnexpectedSegment},
		{"last first", []string{"c001"}, ErrUnexpectedSegment},
		{"first twice", []string{"4001", "4001"}, ErrUnexpectedSegment},
		{"complete inside", []string{"4001", "0001"}, ErrUnexpectedSegment},
		{"type change", []string{"4001", "c101"}, ErrTypeMismatch},
		{"too large", []string{"400102", "800304", "c005"}, ErrTooLarge},
		{"complete too large", []string{"000102030405"}, ErrTooLarge},
	}
	for _, c := range cases {
		r.Reset()
		if err := feed(r, c.in...); !errors.Is(err, c.want) {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	// After an error the reassembler starts over.
	r.Reset()
	if err := feed(r, "4001", "c002"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewReassembler(Config{MaxMessageSize: -1}); err == nil {
		t.Error("negative MaxMessageSize accepted")
	}
	if _, err := NewReassembler(Config{Timeout: -1}); err == nil {
		t.Error("negative Timeout accepted")
	}
}

func TestReassemblerTimeout(t *testing.T) {
	r, _ := NewReassembler(Config{Timeout: time.Second})
	t0 := time.Unix(0, 0)
	if _, _, _, err := r.Feed(t0, []byte{0x40, 1}); err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Pending(); !ok || !d.Equal(t0.Add(time.Second)) {
		t.Fatalf("Pending = %v %v", d, ok)
	}
	if err := r.Check(t0.Add(999 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := r.Feed(t0.Add(time.Second), []byte{0xc0, 2}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("late last segment: %v", err)
	}
	if _, ok := r.Pending(); ok {
		t.Fatal("still pending after timeout")
	}
}

func TestPDUCodec(t *testing.T) {
	var p PDU
	n, err := p.Decode([]byte{0xc3, 9, 8})
	if err != nil || n != 3 || p.SAR != SARLast || p.Type != TypeProvisioning || !bytes.Equal(p.Data, []byte{9, 8}) {
		t.Fatalf("%v %d %+v", err, n, p)
	}
	q := p.Clone()
	out, err := q.AppendBinary(nil)
	if err != nil || !bytes.Equal(out, []byte{0xc3, 9, 8}) || q.EncodedLen() != 3 {
		t.Fatalf("%x %v", out, err)
	}
	if p.Type.String() != "provisioning" || Type(9).String() != "rfu(9)" || SARFirst.String() != "first" {
		t.Error("String")
	}
	if _, err := (&PDU{Type: 0x40}).AppendBinary(nil); err == nil {
		t.Error("type 0x40 encoded")
	}
	if _, err := (&PDU{SAR: SARFirst}).AppendBinary(nil); err == nil {
		t.Error("empty first segment encoded")
	}
}

func TestProxyServiceDataSamples(t *testing.T) {
	netKey := [16]byte(unhex(t, "7dd7364cd842ad18c17c2b820c84c3d6"))
	ik := crypto.IdentityKey(netKey)
	nid := crypto.NetworkID(netKey)
	random := [8]byte(unhex(t, "34ae608fbbc1f2c6"))
	cases := []struct {
		name string
		d    ProxyServiceData
		want string
	}{
		// §8.6.1: Network ID.
		{"network-id", NetworkIDServiceData(nid), "0c162818003ecaff672f673370"},
		// §8.6.2-8.6.4: address 0x1201, Random 34ae608fbbc1f2c6.
		{"node-identity", NodeIdentityServiceData(ik, random, 0x1201), "1416281801" + "00861765aefcc57b" + "34ae608fbbc1f2c6"},
		{"private-network", PrivateNetworkIdentityServiceData(ik, nid, random), "1416281802" + "d30f7229ef045435" + "34ae608fbbc1f2c6"},
		{"private-node", PrivateNodeIdentityServiceData(ik, random, 0x1201), "1416281803" + "2c64a8cbca65bfe1" + "34ae608fbbc1f2c6"},
	}
	for _, c := range cases {
		got, err := c.d.AppendBinary(nil)
		if err != nil || hex.EncodeToString(got) != c.want || c.d.EncodedLen() != len(got) {
			t.Errorf("%s: %x %v; want %s", c.name, got, err, c.want)
			continue
		}
		var d ProxyServiceData
		n, err := d.Decode(append(got, 0xff)) // trailing AD structures are left alone
		if err != nil || n != len(got) || d != c.d {
			t.Errorf("%s: decode %d %v %+v", c.name, n, err, d)
		}
		switch d.Type {
		case IDNetwork, IDPrivateNetwork:
			if !d.MatchNetwork(ik, nid) || d.MatchNetwork(ik, [8]byte{}) || d.MatchNode(ik, 0x1201) {
				t.Errorf("%s: MatchNetwork", c.name)
			}
		default:
			if !d.MatchNode(ik, 0x1201) || d.MatchNode(ik, 0x1202) || d.MatchNetwork(ik, nid) {
				t.Errorf("%s: MatchNode", c.name)
			}
		}
	}
}

func TestServiceDataErrors(t *testing.T) {
	var d ProxyServiceData
	for _, h := range []string{
		"", "0c16281800", "0316", "0c172818003ecaff672f673370", "0c162718003ecaff672f673370",
		"0c162818013ecaff672f673370", "0c162818043ecaff672f673370", "0416281800",
	} {
		if _, err := d.Decode(unhex(t, h)); err == nil {
			t.Errorf("%s decoded", h)
		}
	}
	if _, err := (&ProxyServiceData{Type: 4}).AppendBinary(nil); err == nil || (&ProxyServiceData{Type: 4}).EncodedLen() != 0 {
		t.Error("reserved type encoded")
	}
	var p ProvisioningServiceData
	if _, err := p.Decode(unhex(t, "0c162818003ecaff672f673370")); err == nil {
		t.Error("proxy data decoded as provisioning data")
	}
}

// §8.5.1: Device UUID 70cf7c9732a345b691494810d2e9cbf4, OOB Information
// 0x4020. The spec prints the OOB octets as 2040; Zephyr writes 4020.
func TestProvisioningServiceData(t *testing.T) {
	uuid := [16]byte(unhex(t, "70cf7c9732a345b691494810d2e9cbf4"))
	for _, c := range []struct {
		le   bool
		want string
	}{
		{true, "1516271870cf7c9732a345b691494810d2e9cbf42040"},
		{false, "1516271870cf7c9732a345b691494810d2e9cbf44020"},
	} {
		d := ProvisioningServiceData{DeviceUUID: uuid, OOBInfo: 0x4020, OOBLittleEndian: c.le}
		got, _ := d.AppendBinary(nil)
		if hex.EncodeToString(got) != c.want || d.EncodedLen() != len(got) {
			t.Errorf("le=%v: %x; want %s", c.le, got, c.want)
		}
		back := ProvisioningServiceData{OOBLittleEndian: c.le}
		if n, err := back.Decode(got); err != nil || n != 22 || back != d {
			t.Errorf("le=%v: decode %v %+v", c.le, err, back)
		}
	}
}

func TestAdvertisingData(t *testing.T) {
	d := NetworkIDServiceData([8]byte(unhex(t, "3ecaff672f673370")))
	adv, err := d.AppendAdvertisingData(nil)
	if err != nil || hex.EncodeToString(adv) != "020106"+"03032818"+"0c162818003ecaff672f673370" {
		t.Fatalf("%x %v", adv, err)
	}
	sd, ok := FindServiceData(adv, ServiceUUIDProxy)
	var back ProxyServiceData
	if !ok || func() error { _, err := back.Decode(sd); return err }() != nil || back != d {
		t.Fatalf("find: %x %v %+v", sd, ok, back)
	}
	if _, ok := FindServiceData(adv, ServiceUUIDProvisioning); ok {
		t.Fatal("found provisioning data in a proxy advertisement")
	}
	p := ProvisioningServiceData{DeviceUUID: [16]byte{1}, OOBInfo: 0x4020}
	adv, _ = p.AppendAdvertisingData(nil)
	if len(adv) != 29 || len(adv) > maxAdvertisingData {
		t.Fatalf("provisioning advertisement of %d octets", len(adv))
	}
	sd, ok = FindServiceData(append(adv, 0, 0), ServiceUUIDProvisioning)
	var pb ProvisioningServiceData
	if !ok || func() error { _, err := pb.Decode(sd); return err }() != nil || pb != p {
		t.Fatalf("provisioning find: %x %v", sd, ok)
	}
	for _, bad := range []string{"", "00", "05ff", "0316"} {
		if _, ok := FindServiceData(unhex(t, bad), ServiceUUIDProxy); ok {
			t.Errorf("found in %q", bad)
		}
	}
	id := ProxyServiceData{Type: IDNode}
	adv, _ = id.AppendAdvertisingData(nil)
	if len(adv) != 28 {
		t.Fatalf("identity advertisement of %d octets", len(adv))
	}
	if _, err := (&ProxyServiceData{Type: 9}).AppendAdvertisingData(nil); err == nil {
		t.Fatal("reserved type advertised")
	}
}
