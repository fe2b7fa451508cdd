package hci_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/hci"
)

// Decode the mesh AD structures of an LE Advertising Report event read off
// an H:4 stream.
func ExampleParsePacket() {
	_, body, _, err := hci.ParsePacket(advReportEvent, 0)
	if err != nil {
		panic(err)
	}
	var ev hci.Event
	_, _ = ev.Decode(body)
	it := hci.NewReportIter(ev.Params)
	var r hci.AdvReport
	for it.Next(&r) {
		ads := bearer.NewIter(r.Data)
		var a bearer.Adv
		for ads.Next(&a) {
			fmt.Printf("%s from %x rssi %d: %x\n", a.String(), r.Addr, r.RSSI, a.Payload[:4])
		}
	}
	// Output:
	// message[28] from 010203040506 rssi -60: 68eca487
}
