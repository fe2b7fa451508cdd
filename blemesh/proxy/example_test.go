package proxy_test

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/proxy"
)

// Segment a provisioning PDU for an ATT MTU of 23 and reassemble it on the
// other side of the connection.
func Example() {
	msg, _ := hex.DecodeString("032c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4f")
	seg, _ := proxy.NewSegmenter(23, proxy.TypeProvisioning, msg)
	r, _ := proxy.NewReassembler(proxy.Config{})
	var buf [20]byte
	for v, ok := seg.Next(buf[:0]); ok; v, ok = seg.Next(buf[:0]) {
		fmt.Printf("%x\n", v)
		typ, out, done, err := r.Feed(time.Now(), v)
		if err != nil {
			fmt.Println("disconnect:", err)
			return
		}
		if done {
			fmt.Println(typ, len(out), "octets")
		}
	}
	// Output:
	// 43032c31a47b5779809ef44cb5eaaf5c3e43d5f8
	// 83faad4a8794cb987e9b03745c78dd9195121838
	// 8398dfbecd52e2408e43871fd021109117bd3ed4
	// c3eaf8437743715d4f
	// provisioning 65 octets
}

// A proxy client recognises a node's Node Identity advertisement.
func ExampleProxyServiceData_MatchNode() {
	netKey, _ := hex.DecodeString("7dd7364cd842ad18c17c2b820c84c3d6")
	ik := crypto.IdentityKey([16]byte(netKey))
	adv, _ := hex.DecodeString("141628180100861765aefcc57b34ae608fbbc1f2c6")
	var d proxy.ProxyServiceData
	if _, err := d.Decode(adv); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Type, d.MatchNode(ik, 0x1201), d.MatchNode(ik, 0x1202))
	// Output: node-identity true false
}
