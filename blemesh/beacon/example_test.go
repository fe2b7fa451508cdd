package beacon_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/beacon"
)

// The Secure Network beacon of the specification's sample data (§8.4.3).
func Example() {
	netKey := [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6}
	keys := beacon.NewNetKeys(netKey)
	b := beacon.SecureNetwork{NetworkID: keys.NetworkID, IVIndex: 0x12345678}
	wire, _ := keys.SealSecure(nil, &b)
	fmt.Printf("%x\n", wire)
	var got beacon.SecureNetwork
	fmt.Println(keys.OpenSecure(&got, wire), got.IVIndex == 0x12345678)
	// Output:
	// 01003ecaff672f673370123456788ea261582f364f6f
	// <nil> true
}
