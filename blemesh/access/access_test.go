package access_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestOpcodes(t *testing.T) {
	for _, tc := range []struct {
		wire string
		op   access.Opcode
		n    int
	}{
		{"00", access.OpAppKeyAdd, 1},
		{"04", access.OpHealthCurrentStatus, 1},
		{"8003", access.OpAppKeyStatus, 2},
		{"d50a00", access.Vendor(0x15, 0x000a), 3},
	} {
		op, n, err := access.DecodeOpcode(unhex(tc.wire))
		if err != nil || op != tc.op || n != tc.n || op.Len() != n {
			t.Errorf("%s: %v %d %v", tc.wire, op, n, err)
		}
		if op.String() != tc.wire {
			t.Errorf("String = %s", op.String())
		}
	}
	v := access.Vendor(0x15, 0x000a)
	if !v.IsVendor() || v.CompanyID() != 0x000a || v.VendorOpcode() != 0x15 {
		t.Error("vendor accessors")
	}
	for _, bad := range []string{"", "7f", "80", "c0", "c001"} {
		if _, _, err := access.DecodeOpcode(unhex(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if access.Opcode(0x7f).Valid() || access.Opcode(0x7fff).Valid() || access.Opcode(0x1000000).Valid() {
		t.Error("invalid opcodes valid")
	}
	if _, err := access.Opcode(0x7f).AppendBinary(nil); err != access.ErrOpcode {
		t.Error("0x7f encoded")
	}
}

func TestAddresses(t *testing.T) {
	if !access.IsUnicast(0x0001) || access.IsUnicast(0) || access.IsUnicast(0x8000) {
		t.Error("unicast")
	}
	if !access.IsVirtual(0xb529) || access.IsVirtual(0xc000) || !access.IsGroup(access.AddrAllNodes) || !access.IsGroup(0xc000) {
		t.Error("virtual/group")
	}
}

func TestConfigMessages(t *testing.T) {
	var add access.AppKeyAdd
	p := unhex("56341263964771734fbd76e3b40519d1d94a48")
	if _, err := add.Decode(p); err != nil || add.NetKeyIndex != 0x456 || add.AppKeyIndex != 0x123 || add.AppKey[0] != 0x63 {
		t.Fatalf("AppKeyAdd %+v %v", add, err)
	}
	if out, _ := add.AppendBinary(nil); !bytes.Equal(out, p) || add.Opcode() != access.OpAppKeyAdd {
		t.Fatal("AppKeyAdd round trip")
	}
	var st access.AppKeyStatus
	if _, err := st.Decode(unhex("00563412")); err != nil || st.NetKeyIndex != 0x456 || st.AppKeyIndex != 0x123 {
		t.Fatalf("AppKeyStatus %+v", st)
	}
	var pub access.ModelPublication
	w := unhex("010000c00310ff0a230010")
	if _, err := pub.Decode(w); err != nil || pub.ElementAddress != 1 || pub.PublishAddress != 0xc000 || pub.AppKeyIndex != 3 || !pub.CredentialFlag ||
		pub.PublishTTL != 0xff || pub.PublishPeriod != 0x0a || pub.RetransmitCount != 3 || pub.RetransmitIntervalSteps != 4 || pub.Model.ID != 0x1000 {
		t.Fatalf("ModelPublication %+v %v", pub, err)
	}
	if out, _ := pub.AppendBinary(nil); !bytes.Equal(out, w) {
		t.Fatalf("publication round trip %x", out)
	}
	var bind access.ModelAppBind
	w = unhex("010000003f002a00")
	if _, err := bind.Decode(w); err != nil || !bind.Model.Vendor || bind.Model.CompanyID != 0x3f || bind.Model.ID != 0x2a {
		t.Fatalf("bind %+v %v", bind, err)
	}
	if out, _ := bind.AppendBinary(nil); !bytes.Equal(out, w) {
		t.Fatal("bind round trip")
	}
	var hs access.HealthStatus
	if _, err := hs.Decode(unhex("000000010703")); err != nil || !bytes.Equal(hs.Faults, unhex("010703")) {
		t.Fatal("health")
	}
	if _, err := (&access.AppKeyAdd{NetKeyIndex: 0x1000}).AppendBinary(nil); err != access.ErrRange {
		t.Fatal("key index range")
	}
}

// A Composition Data page 0 with the layout of the §8.10.1 sample (one
// element: five SIG models and one vendor model).
var comp = unhex("0c001a0001000800030000010501000000800100001003103f002a00")

func TestCompositionPage0(t *testing.T) {
	var c access.CompositionPage0
	if _, err := c.Decode(comp); err != nil {
		t.Fatal(err)
	}
	if c.CID != 0x000c || c.PID != 0x001a || c.VID != 0x0001 || c.CRPL != 8 || c.Features != access.FeatureRelay|access.FeatureProxy {
		t.Fatalf("%+v", c)
	}
	it := c.Iter()
	var e access.Element
	if !it.Next(&e) || e.Loc != 0x0100 || e.NumS != 5 || e.NumV != 1 || e.SIGModel(1) != 0x8000 || e.VendorModel(0) != (access.ModelID{Vendor: true, CompanyID: 0x3f, ID: 0x2a}) {
		t.Fatalf("element %+v", e)
	}
	if it.Next(&e) || it.Err() != nil {
		t.Fatal("second element")
	}
	out, err := c.AppendBinary(nil)
	if err != nil || !bytes.Equal(out, comp) {
		t.Fatalf("round trip %x %v", out, err)
	}
	if _, err := c.Decode(comp[:len(comp)-1]); err == nil {
		t.Fatal("truncated element accepted")
	}
}

func TestDecodeFields(t *testing.T) {
	fs, err := access.DecodeFields(access.OpBridgingTableAdd, unhex("0301f0ff0300c000"), nil)
	if err != nil || len(fs) != 5 || fs[0].Value != 3 || fs[1].Value != 0x001 || fs[2].Value != 0xfff || fs[3].Value != 0x0003 || fs[4].Value != 0x00c0 {
		t.Fatalf("%+v %v", fs, err)
	}
	fs, err = access.DecodeFields(access.OpBridgedSubnetsGet, unhex("512300"), nil)
	if err != nil || fs[0].Value != 1 || fs[2].Value != 0x235 || fs[3].Value != 0 {
		t.Fatalf("%+v %v", fs, err)
	}
	if _, err := access.DecodeFields(access.OpBridgedSubnetsGet, unhex("5d2300"), nil); err != access.ErrMalformed {
		t.Fatal("prohibited bits accepted")
	}
	if _, err := access.DecodeFields(access.OpAppKeyStatus, unhex("0056341200"), nil); err != access.ErrLong {
		t.Fatal("trailing octet accepted")
	}
	if _, err := access.DecodeFields(access.Opcode(0x8299), nil, nil); err != access.ErrOpcode {
		t.Fatal("unknown opcode")
	}
	fs, _ = access.DecodeFields(access.OpModelAppBind, unhex("010000003f002a00"), nil)
	if fs[2].Name != "model_identifier" || fs[2].Value != 0x003f002a {
		t.Fatalf("%+v", fs)
	}
}
