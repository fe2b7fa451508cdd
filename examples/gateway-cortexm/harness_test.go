//go:build !tinygo

package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// meshDevice is a mesh node in the test harness, provisioned in the same
// network as the gateway: it builds the encrypted network PDUs a light or a
// sensor would send, and decrypts what the gateway sends.
type meshDevice struct {
	keys network.Keys
	app  transport.AccessKey
	iv   uint32
	addr uint16
	seq  uint32
	ttl  uint8

	// scratch, so that building a PDU allocates nothing
	upper [transport.MaxAccessPDULen]byte
	lower [network.MaxPDULen]byte
	pdus  [transport.MaxSegments][network.MaxPDULen]byte
	out   [transport.MaxSegments][]byte
}

func newMeshDevice(cfg Config, addr uint16) *meshDevice {
	d := &meshDevice{iv: cfg.IVIndex, addr: addr, seq: 1, ttl: 4}
	d.keys.Derive(cfg.NetKey, []byte{0})
	d.app = transport.NewAppKey(cfg.AppKey)
	return d
}

// access returns the network PDUs of an access message from d to dst,
// segmented when it does not fit one PDU (or when seg is set). The slices
// alias d's scratch space until the next call.
func (d *meshDevice) access(dst uint16, payload []byte, seg bool) [][]byte {
	seq0 := d.seq
	meta := transport.AccessMeta{SEQ: seq0, SRC: d.addr, DST: dst, IVIndex: d.iv}
	upper, err := d.app.Seal(d.upper[:0], &meta, payload)
	if err != nil {
		panic(err)
	}
	out := d.out[:0]
	if len(upper) <= transport.MaxUnsegAccessLen && !seg {
		lp := transport.LowerPDU{AKF: true, AID: d.app.AID, Payload: upper}
		out = append(out, d.seal(0, false, dst, &lp))
		return out
	}
	s := transport.Segmenter{AKF: true, AID: d.app.AID, SeqZero: uint16(seq0 & 0x1fff), PDU: upper}
	for i := uint8(0); i <= s.SegN(); i++ {
		lp := s.Segment(i)
		out = append(out, d.seal(int(i), false, dst, &lp))
	}
	return out
}

// seal seals one lower transport PDU with the next sequence number into
// scratch slot i.
func (d *meshDevice) seal(i int, ctl bool, dst uint16, lp *transport.LowerPDU) []byte {
	tpdu, err := lp.AppendBinary(d.lower[:0])
	if err != nil {
		panic(err)
	}
	h := network.Header{CTL: ctl, TTL: d.ttl, SEQ: d.seq, SRC: d.addr, DST: dst, IVIndex: d.iv}
	d.seq++
	pdu, err := d.keys.Seal(d.pdus[i][:0], &h, tpdu)
	if err != nil {
		panic(err)
	}
	return pdu
}

// advEvent returns the H:4 LE Advertising Report event a controller sends
// when it hears pdu, built with the HCI bearer's own encoder.
func advEvent(dst []byte, pdu []byte) []byte {
	var ad [31]byte
	data := append(ad[:0], byte(1+len(pdu)), adTypeMeshMsg)
	data = append(data, pdu...)
	var params [64]byte
	r := hci.AdvReport{EventType: hci.AdvNonconnInd, Addr: [6]byte{1, 2, 3, 4, 5, 6}, Data: data, RSSI: -40}
	p := hci.AppendAdvReport(params[:0], &r)
	out, err := hci.AppendEvent(dst, hci.EvtLEMeta, p)
	if err != nil {
		panic(err)
	}
	return out
}

// radioPDU is one network PDU the gateway transmitted, opened.
type radioPDU struct {
	h      network.Header
	lp     transport.LowerPDU
	op     access.Opcode // access messages
	params []byte
}

var errNotAdv = errors.New("not an LE Set Advertising Data command")

// nextRadioPDU parses the first H:4 packet of stream (what the gateway wrote
// to its radio), checks it is LE Set Advertising Data with one mesh AD
// structure, and decrypts it with the harness's keys. It returns the bytes
// consumed; 0 with a nil error means more bytes are needed.
func (d *meshDevice) nextRadioPDU(stream []byte, out *radioPDU) (int, error) {
	typ, body, n, err := hci.ParsePacket(stream, 0)
	if err == hci.ErrIncomplete {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if typ != hci.PacketCommand || len(body) != 3+32 || body[0] != byte(hci.OpLESetAdvData&0xff) || body[1] != byte(hci.OpLESetAdvData>>8) {
		return n, errNotAdv
	}
	adv := body[4 : 4+int(body[3])]
	if len(adv) < 3 || int(adv[0]) != len(adv)-1 || adv[1] != adTypeMeshMsg {
		return n, errNotAdv
	}
	tpdu, err := d.keys.Open(nil, &out.h, adv[2:], d.iv)
	if err != nil {
		return n, err
	}
	if _, err := out.lp.Decode(tpdu, out.h.CTL); err != nil {
		return n, err
	}
	if out.h.CTL || out.lp.Seg {
		return n, nil
	}
	meta := transport.AccessMeta{SEQ: out.h.SEQ, SRC: out.h.SRC, DST: out.h.DST, IVIndex: out.h.IVIndex}
	pl, err := d.app.Open(nil, &meta, out.lp.Payload)
	if err != nil {
		return n, err
	}
	op, k, err := access.DecodeOpcode(pl)
	if err != nil {
		return n, err
	}
	out.op, out.params = op, pl[k:]
	return n, nil
}

// radioPDUs decodes every PDU in stream.
func (d *meshDevice) radioPDUs(t testing.TB, stream []byte) []radioPDU {
	t.Helper()
	var out []radioPDU
	for len(stream) > 0 {
		var p radioPDU
		n, err := d.nextRadioPDU(stream, &p)
		if err != nil {
			t.Fatalf("radio output: %v", err)
		}
		if n == 0 {
			t.Fatalf("radio output ends inside a packet: % x", stream)
		}
		out = append(out, p)
		stream = stream[n:]
	}
	return out
}

// onoffStatus is a Generic OnOff Status access payload.
func onoffStatus(on bool) []byte {
	v := byte(0)
	if on {
		v = 1
	}
	return []byte{0x82, 0x04, v}
}

// vendorMessage is a vendor-model access payload too long for one PDU
// (3-octet opcode 0xC1 of company 0x05F1, then n octets).
func vendorMessage(n int) []byte {
	p := []byte{0xc1, 0xf1, 0x05}
	for i := range n {
		p = append(p, byte(i*7+1))
	}
	return p
}

// fixedWriter records writes into a buffer reused across iterations.
type fixedWriter struct{ bytes.Buffer }
