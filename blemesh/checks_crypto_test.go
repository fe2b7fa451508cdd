//go:build !tinygo

package blemesh_test

import (
	"github.com/edgekit/edgekit/blemesh/crypto"
)

func init() {
	register("s1", func(c *checkCtx, s *sample) {
		m := c.hex("inputs.m")
		if c.has("inputs.m_ascii") {
			c.check(c.str("inputs.m_ascii") == string(m), "m_ascii does not match m")
		}
		got := crypto.S1(m)
		c.expectHex("expected.salt", got[:])
	})
	register("k1", func(c *checkCtx, s *sample) {
		got := crypto.K1(c.hex("inputs.n"), c.key16("inputs.salt"), c.hex("inputs.p"))
		c.expectHex("expected.k1", got[:])
	})
	register("k2", func(c *checkCtx, s *sample) {
		n := c.key16("inputs.n")
		p := c.hex("inputs.p")
		if c.has("inputs.credentials") {
			var want []byte
			switch cr := c.str("inputs.credentials"); cr {
			case "flooding":
				want = []byte{crypto.PFlooding}
			case "directed":
				want = []byte{crypto.PDirected}
			case "friendship":
				want = p // checked field by field below
				c.check(len(p) == 9 && p[0] == 1, "friendship P %x", p)
			default:
				c.errorf("credentials %q", cr)
			}
			c.expectBytes("P for the credentials", p, want)
		}
		if f, ok := friendshipInputs(c); ok {
			fp := crypto.FriendshipP(f.LPNAddress, f.FriendAddress, f.LPNCounter, f.FriendCounter)
			c.expectBytes("P from friendship fields", fp[:], p)
		}
		nid, ek, pk := crypto.K2(n, p)
		c.expectHex("expected.nid", []byte{nid})
		c.expectHex("expected.encryption_key", ek[:])
		c.expectHex("expected.privacy_key", pk[:])
	})
	register("k3", func(c *checkCtx, s *sample) {
		got := crypto.K3(c.key16("inputs.n"))
		c.expectHex("expected.network_id", got[:])
	})
	register("k4", func(c *checkCtx, s *sample) {
		c.expectHex("expected.aid", []byte{crypto.K4(c.key16("inputs.n"))})
	})
	register("identity_key", func(c *checkCtx, s *sample) {
		got := crypto.IdentityKey(c.key16("inputs.net_key"))
		c.expectHex("expected.identity_key", got[:])
	})
	register("beacon_key", func(c *checkCtx, s *sample) {
		got := crypto.BeaconKey(c.key16("inputs.net_key"))
		c.expectHex("expected.beacon_key", got[:])
	})
	register("private_beacon_key", func(c *checkCtx, s *sample) {
		got := crypto.PrivateBeaconKey(c.key16("inputs.net_key"))
		c.expectHex("expected.private_beacon_key", got[:])
	})
	register("virtual_address", func(c *checkCtx, s *sample) {
		got := crypto.VirtualAddress(c.key16("inputs.label_uuid"))
		c.expectUint("expected.virtual_address", uint64(got))
	})
}
