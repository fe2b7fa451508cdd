package prov

import "testing"

// TestFCSTable rebuilds the table bit by bit from the reflected polynomial.
func TestFCSTable(t *testing.T) {
	for i := 0; i < 256; i++ {
		c := byte(i)
		for j := 0; j < 8; j++ {
			if c&1 != 0 {
				c = c>>1 ^ 0xe0
			} else {
				c >>= 1
			}
		}
		if fcsTable[i] != c {
			t.Fatalf("fcsTable[%d] = %#x; want %#x", i, fcsTable[i], c)
		}
	}
}

// TestFCSSamples checks the FCS of §8.7.3-§8.7.5 and the 3GPP TS 27.010
// property that the FCS of a frame followed by its FCS leaves 0xCF in the
// register (a receiver's check).
func TestFCSSamples(t *testing.T) {
	for _, c := range []struct {
		pdu string
		fcs uint8
	}{
		{"0000", 0x14},
		{"010100010000000000000000", 0xd6},
		{"020000000000", 0x64},
	} {
		pdu := unhex(t, c.pdu)
		if got := FCS(pdu); got != c.fcs {
			t.Errorf("FCS(%s) = %#x; want %#x", c.pdu, got, c.fcs)
		}
		crc := uint8(0xff)
		for _, b := range append(pdu, c.fcs) {
			crc = fcsTable[crc^b]
		}
		if crc != 0xcf {
			t.Errorf("%s: receiver check %#x; want 0xcf", c.pdu, crc)
		}
	}
}
