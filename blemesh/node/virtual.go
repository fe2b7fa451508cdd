package node

// The go:noinline functions here keep their frames off their callers'
// stacks: the receive and Tick paths must fit TinyGo's 4 KB stacks.

import (
	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// syncLabels rebuilds the list of Label UUIDs tried on messages to virtual
// addresses from the models' subscriptions. It runs on configuration
// changes, never per PDU.
//
//go:noinline
func (n *Node) syncLabels() {
	n.labels = n.labels[:0]
	for i := range n.cfgSrv.Models {
		for _, u := range n.cfgSrv.Models[i].Labels {
			dup := false
			for j := range n.labels {
				if n.labels[j].UUID == u {
					dup = true
					break
				}
			}
			if !dup {
				n.labels = append(n.labels, transport.NewLabel(u))
			}
		}
	}
}

// labelFor returns the Label UUID this node knows for the virtual address
// va (from subscriptions and publications), or nil when it knows none or
// more than one (the address alone does not tell them apart).
func (n *Node) labelFor(va uint16) *[16]byte {
	var found *[16]byte
	for i := range n.labels {
		if n.labels[i].Address != va {
			continue
		}
		if found != nil && *found != n.labels[i].UUID {
			return nil
		}
		found = &n.labels[i].UUID
	}
	for i := range n.cfgSrv.Models {
		m := &n.cfgSrv.Models[i]
		if m.Pub.PublishAddress != va || !access.IsVirtual(va) {
			continue
		}
		if found != nil && *found != m.PubLabel {
			return nil
		}
		found = &m.PubLabel
	}
	return found
}
