//go:build !tinygo

package prov

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Error-path tests run on hosts only, to keep the TinyGo test binary within
// the emulated Cortex-M4's 256 KB of flash (crypto/hmac and crypto/sha256
// take about 64 KB of it under TinyGo).

func TestPBADVErrors(t *testing.T) {
	for _, h := range []string{
		"23af5850",                       // short
		"23af58500005",                   // ack with padding
		"23af5850000100",                 // ack with data
		"23af585000000002",               // start without length and FCS
		"23af585000000000140000",         // zero total length
		"23af585000000003140000",         // data shorter than total
		"23af585000040002140000",         // SegN 1 for 2 octets
		"23af585000000020140000",         // total 32 in one segment
		"23af585000020102",               // continuation index 0
		"23af58500006",                   // continuation without data
		"23af58500003" + sampleUUID[:30], // link open with 15 octets
		"23af5850000700",                 // link ack with data
		"23af58500013",                   // opcode 4
		"23af5850000b",                   // link close without reason
		"23af5850000203" + "0000000000000000000000000000000000000000000000", // too long
	} {
		var p PBADV
		if _, err := p.Decode(unhex(t, h)); err == nil {
			t.Errorf("%s decoded: %+v", h, p)
		}
	}
	for _, p := range []PBADV{
		{GPCF: GPCFTransactionStart},
		{GPCF: GPCFTransactionStart, Data: make([]byte, 21)},
		{GPCF: GPCFTransactionStart, Data: []byte{1}, SegN: 64},
		{GPCF: GPCFTransactionContinuation, Data: []byte{1}},
		{GPCF: GPCFTransactionContinuation, SegmentIndex: 1, Data: make([]byte, 24)},
		{GPCF: GPCFBearerControl, Opcode: 3},
	} {
		if _, err := p.AppendBinary(nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("%+v encoded: %v", p, err)
		}
	}
	if _, err := AppendSegment(nil, 1, 0, nil, 0); err == nil {
		t.Error("empty PDU segmented")
	}
	if _, err := AppendSegment(nil, 1, 0, []byte{1}, 1); err == nil {
		t.Error("segment 1 of a one-segment PDU")
	}
}

func TestPDUErrors(t *testing.T) {
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"padding", []byte{0x40}, ErrType},
		{"reserved type", []byte{0x0e}, ErrType},
		{"invite short", []byte{0x00}, ErrShort},
		{"invite long", []byte{0x00, 1, 2}, ErrLength},
		{"capabilities short", mustHex("0101"), ErrShort},
		{"public key long", append(mustHex("03"+sampleProvisionerPub), 0), ErrLength},
		{"complete long", []byte{0x08, 0}, ErrLength},
		{"records list odd", []byte{0x0d, 0, 0, 1}, ErrLength},
		{"record response short", []byte{0x0b, 0, 0}, ErrShort},
	}
	for _, c := range cases {
		if _, err := decodeAny(c.wire); !errors.Is(err, c.want) {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	var cf Confirmation
	if _, err := cf.Decode(append([]byte{0x05}, make([]byte, 20)...)); !errors.Is(err, ErrLength) {
		t.Errorf("confirmation of 20 octets: %v", err)
	}
	if _, err := cf.Decode(append([]byte{0x05}, make([]byte, 15)...)); !errors.Is(err, ErrShort) {
		t.Errorf("confirmation of 15 octets: %v", err)
	}
	var inv Invite
	if _, err := inv.Decode([]byte{0x01, 0}); !errors.Is(err, ErrType) {
		t.Errorf("capabilities decoded as invite: %v", err)
	}
	if _, err := (&Confirmation{}).AppendBinary(nil); !errors.Is(err, ErrLength) {
		t.Errorf("empty confirmation encoded: %v", err)
	}
	if _, err := (&RecordsList{IDs: []byte{1}}).AppendBinary(nil); !errors.Is(err, ErrLength) {
		t.Errorf("odd records list encoded: %v", err)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{TypeRecordsList.String(), "records-list"},
		{PDUType(0x20).String(), "rfu(32)"},
		{AlgHMAC.String(), "BTM_ECDH_P256_HMAC_SHA256_AES_CCM"},
		{Algorithm(9).String(), "rfu(9)"},
		{AuthInputOOB.String(), "input-oob"},
		{ErrCodeDecryptionFailed.String(), "decryption failed"},
		{ErrorCode(0x40).String(), "rfu(64)"},
		{CloseTimeout.String(), "timeout"},
		{StateOOBInput.String(), "oob-input"},
		{LinkEstablished.String(), "established"},
		{(FailedError{Code: ErrCodeConfirmationFailed, Sent: true}).Error(), "blemesh/prov: provisioning failed: confirmation failed"},
	} {
		if c.got != c.want {
			t.Errorf("%q; want %q", c.got, c.want)
		}
	}
}

func TestDeviceRejects(t *testing.T) {
	t0 := time.Unix(0, 0)
	caps := Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC}
	newDev := func() *Device {
		d, err := NewDevice(DeviceConfig{Capabilities: caps, KeyPair: newToyKeyPair(1), Rand: newTestRand(1)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	code := func(d *Device) ErrorCode {
		var f Failed
		b, ok := d.Transmit(t0, nil)
		for ok && b[0] != byte(TypeFailed) {
			b, ok = d.Transmit(t0, nil)
		}
		if !ok {
			t.Fatal("no Failed PDU")
		}
		f.Decode(b)
		var fe FailedError
		if !errors.As(d.Err(), &fe) || fe.Code != f.Code || !fe.Sent || d.State() != StateFailed {
			t.Fatalf("Err %v state %v", d.Err(), d.State())
		}
		return f.Code
	}
	d := newDev()
	d.Receive(t0, []byte{0x02, 0, 0, 0, 0, 0})
	if c := code(d); c != ErrCodeUnexpectedPDU {
		t.Errorf("start first: %v", c)
	}
	d = newDev()
	d.Receive(t0, []byte{0x3f})
	if c := code(d); c != ErrCodeInvalidPDU {
		t.Errorf("reserved type: %v", c)
	}
	d = newDev()
	d.Receive(t0, []byte{0x00, 0x00, 0x00})
	if c := code(d); c != ErrCodeInvalidFormat {
		t.Errorf("long invite: %v", c)
	}
	d = newDev()
	d.Receive(t0, []byte{0x00, 0x00})
	d.Receive(t0, []byte{0x02, 0x01, 0, 0, 0, 0}) // HMAC not advertised
	if c := code(d); c != ErrCodeInvalidFormat {
		t.Errorf("unsupported start: %v", c)
	}
	// A reflected public key is refused.
	d = newDev()
	d.Receive(t0, []byte{0x00, 0x00})
	d.Receive(t0, []byte{0x02, 0, 0, 0, 0, 0})
	own := newToyKeyPair(1).PublicKey()
	d.Receive(t0, append([]byte{0x03}, own[:]...))
	if c := code(d); c != ErrCodeInvalidFormat {
		t.Errorf("reflected key: %v", c)
	}
	// Timeout.
	d = newDev()
	d.Receive(t0, []byte{0x00, 0x00})
	if dl, ok := d.Deadline(); !ok || !dl.Equal(t0.Add(DefaultProtocolTimeout)) {
		t.Fatalf("deadline %v after start, %v", dl.Sub(t0), ok)
	}
	d.Tick(t0.Add(DefaultProtocolTimeout))
	if d.State() != StateFailed || !errors.Is(d.Err(), ErrTimeout) {
		t.Errorf("timeout: %v %v", d.State(), d.Err())
	}
	d.Reset()
	if d.State() != StateIdle || d.Err() != nil {
		t.Error("Reset")
	}
	if err := d.InputNumber(t0, 1); !errors.Is(err, ErrState) {
		t.Errorf("InputNumber when not asked: %v", err)
	}
	if _, err := NewDevice(DeviceConfig{}); err == nil {
		t.Error("zero DeviceConfig accepted")
	}
	if _, err := NewDevice(DeviceConfig{Capabilities: Capabilities{NumElements: 1, Algorithms: 1, OOBType: OOBStaticAvailable}}); err == nil {
		t.Error("static OOB without a value accepted")
	}
}

func TestProvisionerRejects(t *testing.T) {
	t0 := time.Unix(0, 0)
	p, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2), Rand: newTestRand(1)})
	if err := p.Start(t0, Start{}, ProvisioningData{UnicastAddress: 1}); !errors.Is(err, ErrState) {
		t.Fatalf("Start before capabilities: %v", err)
	}
	p.Begin(t0)
	if err := p.Begin(t0); !errors.Is(err, ErrState) {
		t.Fatal("Begin twice")
	}
	b, _ := p.Transmit(t0, nil)
	if !bytes.Equal(b, []byte{0x00, 0x00}) {
		t.Fatalf("invite %x", b)
	}
	p.Receive(t0, mustHex("010100010000000000000000"))
	if e, ok := p.NextEvent(); !ok || e.Kind != EventCapabilities {
		t.Fatalf("event %+v", e)
	}
	if err := p.Start(t0, Start{Algorithm: AlgHMAC}, ProvisioningData{UnicastAddress: 1}); !errors.Is(err, ErrUnsupportedStart) {
		t.Fatalf("HMAC start for a CMAC device: %v", err)
	}
	if err := p.Start(t0, Start{}, ProvisioningData{}); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("address 0: %v", err)
	}
	if err := p.Start(t0, Start{}, ProvisioningData{UnicastAddress: 0x7fff}); err != nil {
		t.Fatal(err)
	}
	// The device reports a failure.
	p.Receive(t0, []byte{0x09, 0x04})
	var fe FailedError
	if p.State() != StateFailed || !errors.As(p.Err(), &fe) || fe.Code != ErrCodeConfirmationFailed || fe.Sent {
		t.Fatalf("%v %v", p.State(), p.Err())
	}
	// A capabilities PDU with zero elements ends the run.
	p, _ = NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2)})
	p.Begin(t0)
	p.Receive(t0, mustHex("010000010000000000000000"))
	if p.State() != StateFailed {
		t.Fatalf("zero elements: %v", p.State())
	}
}
