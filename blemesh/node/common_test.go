package node_test

import (
	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/node"
)

// Generic OnOff (Mesh Model 1.1 §3.2.1, §7.1) opcodes and models, used as the
// application in the scenarios.
const (
	opOnOffGet        access.Opcode = 0x8201
	opOnOffSet        access.Opcode = 0x8202
	opOnOffSetUnack   access.Opcode = 0x8203
	opOnOffStatus     access.Opcode = 0x8204
	modelOnOffServer  uint16        = 0x1000
	modelOnOffClient  uint16        = 0x1001
	vendorCompany     uint16        = 0x05f1
	groupLights       uint16        = 0xc001
	netKeyIndex       uint16        = 0x000
	appKeyIndex       uint16        = 0x001
	testNetKeyByte    byte          = 0x11
	testAppKeyByte    byte          = 0x22
	testNewNetKeyByte byte          = 0x33
	testNewAppKeyByte byte          = 0x44
)

var opVendorData = access.Vendor(0x01, vendorCompany)

func key(b byte) (k [16]byte) {
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// seqReader is a deterministic io.Reader (splitmix64) for link IDs and
// provisioning randoms.
type seqReader struct{ s uint64 }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		r.s += 0x9e3779b97f4a7c15
		z := r.s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		p[i] = byte(z ^ (z >> 31))
	}
	return len(p), nil
}

func onOffServer() node.Element {
	return node.Element{Models: []node.Model{
		{ID: access.ModelID{ID: modelOnOffServer}, Opcodes: []access.Opcode{opOnOffGet, opOnOffSet, opOnOffSetUnack}},
		{ID: access.ModelID{Vendor: true, CompanyID: vendorCompany, ID: 0x0001}, Opcodes: []access.Opcode{opVendorData}},
	}}
}

func onOffClient() node.Element {
	return node.Element{Models: []node.Model{
		{ID: access.ModelID{ID: modelOnOffClient}, Opcodes: []access.Opcode{opOnOffStatus}},
	}}
}
