//go:build tinygo && !blemesh_pbadv

package node

import (
	"errors"
	"time"
)

// ErrNoPBADV reports a TinyGo build without the blemesh_pbadv tag: the
// PB-ADV provisioning glue (and with it the provisioning algorithms' SHA-256
// and HMAC code, about 64 KB of flash) is left out, so a node must be
// provisioned with SelfProvision from data stored at manufacturing or
// delivered another way. Build with -tags blemesh_pbadv on chips with room
// for it.
var ErrNoPBADV = errors.New("blemesh/node: PB-ADV provisioning not built in (TinyGo build without the blemesh_pbadv tag)")

func (n *Node) newDeviceSession() error               { return nil }
func (n *Node) sendUnprovBeacon(now time.Time)        {}
func (n *Node) rxPBADV(now time.Time, payload []byte) {}
func (n *Node) provTick(now time.Time)                {}
func (n *Node) provDeadline() (time.Time, bool)       { return time.Time{}, false }

// ProvisionDevice is not available in this build; see ErrNoPBADV.
func (n *Node) ProvisionDevice(now time.Time, uuid [16]byte, addr uint16) error { return ErrNoPBADV }

// ProvisionResult returns the zero result in this build.
func (n *Node) ProvisionResult() ProvisionResult { return n.provRes }
