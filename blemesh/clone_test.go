package blemesh_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// The Clone methods of the decoders whose values alias the decoded buffer
// give values that survive the buffer being overwritten.
func TestCloneDetachesFromTheBuffer(t *testing.T) {
	scribble := func(b []byte) {
		for i := range b {
			b[i] = 0xee
		}
	}
	{
		buf := []byte{0x80, 0x03, 0x00, 0x56, 0x34, 0x12}
		var p access.Payload
		if _, err := p.Decode(buf); err != nil {
			t.Fatal(err)
		}
		c := p.Clone()
		scribble(buf)
		if c.Opcode != access.OpAppKeyStatus || !bytes.Equal(c.Params, []byte{0x00, 0x56, 0x34, 0x12}) {
			t.Errorf("Payload clone %+v", c)
		}
	}
	{
		buf := []byte{0x0c, 0x00, 0x1a, 0x00, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00}
		var cp access.CompositionPage0
		if _, err := cp.Decode(buf); err != nil {
			t.Fatal(err)
		}
		c := cp.Clone()
		scribble(buf)
		it := c.Iter()
		var e access.Element
		if c.CID != 0x000c || !it.Next(&e) || e.Loc != 0x0100 || e.NumS != 1 || e.SIGModel(0) != 0 {
			t.Errorf("CompositionPage0 clone %+v, element %+v", c, e)
		}
	}
	{
		buf := []byte{0x00, 0x3f, 0x00, 0x01, 0x02}
		var h access.HealthStatus
		if _, err := h.Decode(buf); err != nil {
			t.Fatal(err)
		}
		c := h.Clone()
		scribble(buf)
		if c.CompanyID != 0x3f || !bytes.Equal(c.Faults, []byte{1, 2}) {
			t.Errorf("HealthStatus clone %+v", c)
		}
	}
	{
		buf := []byte{0x01, 0xc0, 0x00, 0xc0, 0x01} // Add Addresses to Filter
		var pc network.ProxyConfig
		if _, err := pc.Decode(buf); err != nil {
			t.Fatal(err)
		}
		c := pc.Clone()
		scribble(buf)
		if c.Opcode != 0x01 || !bytes.Equal(c.Params, []byte{0xc0, 0x00, 0xc0, 0x01}) {
			t.Errorf("ProxyConfig clone %+v", c)
		}
	}
	{
		buf := []byte{0x05, 0xc0, 0x00, 0xc0, 0x01}
		var set transport.ControlSet
		m, err := set.Decode(transport.OpFriendSubscriptionListAdd, buf)
		if err != nil {
			t.Fatal(err)
		}
		fl, ok := m.(*transport.FriendSubscriptionList)
		if !ok {
			t.Fatalf("decoded %T", m)
		}
		c := fl.Clone()
		scribble(buf)
		if c.TransactionNumber != 5 || !bytes.Equal(c.Addresses, []byte{0xc0, 0x00, 0xc0, 0x01}) {
			t.Errorf("FriendSubscriptionList clone %+v", c)
		}
	}
	var empty access.Payload
	if c := empty.Clone(); c.Params != nil {
		t.Error("clone of nil Params is not nil")
	}
}
