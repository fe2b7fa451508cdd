package prov

import (
	"bytes"
	"errors"
	"testing"
)

// decodeAny decodes a provisioning PDU of any type and re-encodes it.
func decodeAny(src []byte) (out []byte, err error) {
	t, err := PeekType(src)
	if err != nil {
		return nil, err
	}
	type codec interface {
		Decode([]byte) (int, error)
		AppendBinary([]byte) ([]byte, error)
		EncodedLen() int
	}
	var c codec
	switch t {
	case TypeInvite:
		c = new(Invite)
	case TypeCapabilities:
		c = new(Capabilities)
	case TypeStart:
		c = new(Start)
	case TypePublicKey:
		c = new(PublicKey)
	case TypeInputComplete:
		c = new(InputComplete)
	case TypeConfirmation:
		c = new(Confirmation)
	case TypeRandom:
		c = new(Random)
	case TypeData:
		c = new(Data)
	case TypeComplete:
		c = new(Complete)
	case TypeFailed:
		c = new(Failed)
	case TypeRecordRequest:
		c = new(RecordRequest)
	case TypeRecordResponse:
		c = new(RecordResponse)
	case TypeRecordsGet:
		c = new(RecordsGet)
	case TypeRecordsList:
		c = new(RecordsList)
	}
	n, err := c.Decode(src)
	if err != nil {
		return nil, err
	}
	if n != len(src) {
		return nil, errors.New("short consume")
	}
	out, err = c.AppendBinary(nil)
	if err == nil && len(out) != c.EncodedLen() {
		return nil, errors.New("EncodedLen disagrees")
	}
	return out, err
}

func TestPDURoundTrip(t *testing.T) {
	for _, fx := range pduFixtures {
		out, err := decodeAny(fx.wire)
		if err != nil || !bytes.Equal(out, fx.wire) {
			t.Errorf("%s: %x %v", fx.name, out, err)
		}
	}
}

func TestStartValidate(t *testing.T) {
	caps := Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC, OOBType: OOBStaticAvailable,
		OutputOOBSize: 4, OutputOOBAction: 1 << OutputNumeric, InputOOBSize: 2, InputOOBAction: 1 << InputPush}
	good := []Start{
		{},
		{Algorithm: AlgHMAC},
		{AuthMethod: AuthStaticOOB},
		{AuthMethod: AuthOutputOOB, AuthAction: OutputNumeric, AuthSize: 4},
		{AuthMethod: AuthInputOOB, AuthAction: InputPush, AuthSize: 1},
	}
	for _, s := range good {
		if !s.Supported(&caps) {
			t.Errorf("%+v not supported", s)
		}
	}
	bad := []Start{
		{Algorithm: 2},
		{PublicKey: 1}, // no OOB public key advertised
		{PublicKey: 2},
		{AuthMethod: 4},
		{AuthMethod: AuthNoOOB, AuthSize: 1},
		{AuthMethod: AuthStaticOOB, AuthAction: 1},
		{AuthMethod: AuthOutputOOB, AuthAction: OutputNumeric, AuthSize: 5},
		{AuthMethod: AuthOutputOOB, AuthAction: OutputBlink, AuthSize: 1},
		{AuthMethod: AuthOutputOOB, AuthAction: 5, AuthSize: 1},
		{AuthMethod: AuthOutputOOB, AuthAction: OutputNumeric, AuthSize: 0},
		{AuthMethod: AuthInputOOB, AuthAction: InputPush, AuthSize: 3},
		{AuthMethod: AuthInputOOB, AuthAction: 4, AuthSize: 1},
	}
	for _, s := range bad {
		if s.Supported(&caps) {
			t.Errorf("%+v supported", s)
		}
	}
	only := caps
	only.OOBType |= OOBOnlyAuthenticated
	if (&Start{}).Supported(&only) || (&Start{AuthMethod: AuthStaticOOB}).Supported(&only) {
		t.Error("no-OOB or CMAC start accepted by an OOB-only device")
	}
	if !(&Start{Algorithm: AlgHMAC, AuthMethod: AuthStaticOOB}).Supported(&only) {
		t.Error("HMAC static OOB rejected by an OOB-only device")
	}
	if (&Capabilities{}).Validate() == nil || (&Capabilities{NumElements: 1, Algorithms: 4}).Validate() == nil ||
		(&Capabilities{NumElements: 1, Algorithms: 1, InputOOBSize: 9}).Validate() == nil {
		t.Error("invalid capabilities accepted")
	}
}

func TestRecords(t *testing.T) {
	var l RecordsList
	l.Extensions = 1
	l.AppendID(RecordDeviceCertificate)
	l.AppendID(RecordCompleteLocalName)
	b, _ := l.AppendBinary(nil)
	var m RecordsList
	if _, err := m.Decode(b); err != nil || m.Len() != 2 || m.At(0) != 1 || m.At(1) != 0x11 || m.Extensions != 1 {
		t.Fatalf("%v %+v", err, m)
	}
	c := m.Clone()
	b[3] = 0xff
	if c.At(0) != 1 {
		t.Error("Clone aliases")
	}
	var r RecordResponse
	if _, err := r.Decode(mustHex("0b00000100100040303132")); err != nil || string(r.Data) != "012" || r.TotalLength != 0x40 || r.FragmentOffset != 0x10 {
		t.Fatalf("%v %+v", err, r)
	}
}

func TestProvisioningData(t *testing.T) {
	d := ProvisioningData{NetKey: [16]byte(mustHex("efb2255e6422d330088e09bb015ed707")), KeyIndex: 0x567, IVIndex: 0x01020304, UnicastAddress: 0x0b0c}
	b, err := d.AppendBinary(nil)
	if err != nil || !bytes.Equal(b, mustHex("efb2255e6422d330088e09bb015ed707056700010203040b0c")) {
		t.Fatalf("%x %v", b, err)
	}
	var e ProvisioningData
	if _, err := e.Decode(b); err != nil || e != d {
		t.Fatalf("%v %+v", err, e)
	}
	for _, bad := range []ProvisioningData{
		{KeyIndex: 0x1000, UnicastAddress: 1},
		{Flags: 4, UnicastAddress: 1},
		{UnicastAddress: 0},
		{UnicastAddress: 0x8000},
	} {
		if _, err := bad.AppendBinary(nil); !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestAuthValues(t *testing.T) {
	a := AuthNumeric(AlgCMAC, 0x01020304)
	if !bytes.Equal(a[:16], mustHex("00000000000000000000000001020304")) || a[16] != 0 {
		t.Errorf("numeric CMAC %x", a)
	}
	a = AuthNumeric(AlgHMAC, 7)
	if a[31] != 7 || a[27] != 0 {
		t.Errorf("numeric HMAC %x", a)
	}
	a = AuthAlphanumeric("AB12")
	if string(a[:4]) != "AB12" || a[4] != 0 {
		t.Errorf("alphanumeric %x", a)
	}
	a = AuthStatic(AlgCMAC, bytes.Repeat([]byte{0xaa}, 32))
	if a[15] != 0xaa || a[16] != 0 {
		t.Errorf("static CMAC truncation %x", a)
	}
	a = AuthStatic(AlgHMAC, bytes.Repeat([]byte{0xaa}, 16))
	if a[15] != 0xaa || a[16] != 0 {
		t.Errorf("static HMAC padding %x", a)
	}
	r := bytes.NewReader(bytes.Repeat([]byte{0xff}, 64))
	for size := uint8(1); size <= MaxOOBSize; size++ {
		n, err := randomNumber(r, size, false)
		if err != nil || n >= pow10[size] {
			t.Fatalf("size %d: %d %v", size, n, err)
		}
	}
	n, err := randomNumber(bytes.NewReader(make([]byte, 8)), 1, true)
	if err != nil || n == 0 {
		t.Errorf("count from zero bytes: %d %v", n, err)
	}
	var s [MaxOOBSize]byte
	if err := randomString(bytes.NewReader([]byte{0, 35, 36, 71}), &s, 4); err != nil || string(s[:4]) != "0Z0Z" {
		t.Errorf("string %q %v", s[:4], err)
	}
}
