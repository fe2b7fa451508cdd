package bearer_test

import (
	"fmt"

	"github.com/edgekit/edgekit/blemesh/bearer"
)

// Walk the AD structures of an LE Advertising Report and pick out the mesh
// ones.
func ExampleIter() {
	report := []byte{2, 0x01, 0x06, 4, 0x2a, 0xaa, 0xbb, 0xcc, 3, 0x2b, 0x01, 0x02}
	it := bearer.NewIter(report)
	var a bearer.Adv
	for it.Next(&a) {
		fmt.Println(a.String(), fmt.Sprintf("%x", a.Payload))
	}
	fmt.Println(it.Err())
	// Output:
	// message[3] aabbcc
	// beacon[2] 0102
	// <nil>
}
