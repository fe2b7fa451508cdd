//go:build !tinygo

package node_test

import (
	"fmt"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// Two nodes of one network on an in-memory air: one sends a Generic OnOff
// Set Unacknowledged to the other with an application key.
func Example() {
	air := bearer.NewAir(bearer.AirConfig{})
	netKey, appKey := [16]byte{1}, [16]byte{2}
	onOff := access.ModelID{ID: 0x1000}
	mk := func(addr uint16, h node.Handler, elems []node.Element) *node.Node {
		r := air.Join(nil)
		n, err := node.New(node.Config{Bearer: r, Handler: h, Elements: elems, KeyPair: newToyKeyPair(byte(addr))})
		if err != nil {
			panic(err)
		}
		r.Attach(n)
		_ = n.SelfProvision(air.Now(), prov.ProvisioningData{NetKey: netKey, UnicastAddress: addr}, [16]byte{byte(addr)})
		add := access.AppKeyAdd{AppKeyIndex: 1, AppKey: appKey}
		b, _ := add.AppendBinary(nil)
		_ = n.SendConfig(air.Now(), addr, access.OpAppKeyAdd, b)
		return n
	}
	a := mk(0x0001, nil, nil)
	light := mk(0x0002, func(n *node.Node, now time.Time, m *node.Message) {
		if !m.DevKey { // configuration statuses come here too
			fmt.Printf("%04x -> %04x: %v %x\n", m.SRC, m.DST, m.Opcode, m.Params)
		}
	}, []node.Element{{Models: []node.Model{{ID: onOff, Opcodes: []access.Opcode{0x8203}}}}})
	bind := access.ModelAppBind{ElementAddress: 0x0002, AppKeyIndex: 1, Model: onOff}
	b, _ := bind.AppendBinary(nil)
	_ = light.SendConfig(air.Now(), 0x0002, access.OpModelAppBind, b)
	air.LinkAll(0)

	_ = a.Send(air.Now(), &node.Outgoing{DST: 0x0002, AppKeyIndex: 1, TTL: 0xff, Opcode: 0x8203, Params: []byte{1, 7}})
	_, _ = air.Run(time.Second, nil)
	// Output:
	// 0001 -> 0002: 8203 0107
}
