//go:build !tinygo || blemesh_pbadv

package node

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"time"

	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/prov"
)

func (n *Node) sendUnprovBeacon(now time.Time) {
	if n.devSess == nil {
		return
	}
	u := beacon.Unprovisioned{UUID: n.cfg.UUID}
	var buf [beacon.UnprovisionedWithURILen]byte
	if out, err := u.AppendBinary(buf[:0]); err == nil {
		n.sendRaw(now, bearer.TypeBeacon, out, 0)
	}
}

func (n *Node) rxPBADV(now time.Time, payload []byte) {
	if n.devSess != nil {
		_ = n.devSess.Receive(now, payload)
	}
	if n.provSess != nil {
		_ = n.provSess.Receive(now, payload)
	}
	n.pumpProv(now)
}

func (n *Node) provTick(now time.Time) {
	if n.devSess != nil {
		if d, ok := n.devSess.Deadline(); ok && !now.Before(d) {
			n.devSess.Tick(now)
		}
	}
	if n.provSess != nil {
		if d, ok := n.provSess.Deadline(); ok && !now.Before(d) {
			n.provSess.Tick(now)
		}
	}
	n.pumpProv(now)
}

func (n *Node) provDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	if n.devSess != nil {
		d, ok = n.devSess.Deadline()
	}
	if n.provSess != nil {
		if t, has := n.provSess.Deadline(); has && (!ok || t.Before(d)) {
			d, ok = t, true
		}
	}
	return d, ok
}

// pumpProv moves PB-ADV payloads from the sessions to the bearer and serves
// their events.
func (n *Node) pumpProv(now time.Time) {
	if s := n.devSess; s != nil {
		for {
			out, ok := s.Transmit(now, n.pbadv[:0])
			if !ok {
				break
			}
			n.sendRaw(now, bearer.TypePBADV, out, 0)
		}
		for e, ok := s.NextEvent(); ok; e, ok = s.NextEvent() {
			if e.Kind == prov.EventComplete && !n.provisioned {
				if data, key, ok := s.Result(); ok {
					_ = n.SelfProvision(now, data, key)
				}
			}
		}
		if n.provisioned && s.Link.State() == prov.LinkClosed {
			n.devSess = nil
		}
	}
	if s := n.provSess; s != nil {
		for e, ok := s.NextEvent(); ok; e, ok = s.NextEvent() {
			switch e.Kind {
			case prov.EventCapabilities:
				caps := s.Provisioner.PeerCapabilities()
				alg := prov.AlgCMAC
				if caps.Algorithms.Has(prov.AlgHMAC) {
					alg = prov.AlgHMAC
				}
				n.provRes.Elements = caps.NumElements
				sub := n.primarySubnet()
				data := prov.ProvisioningData{NetKey: n.subnets[sub].key, KeyIndex: n.subnets[sub].index,
					Flags: n.iv.Flags(), IVIndex: n.iv.IVIndex, UnicastAddress: n.provAddr}
				if n.subnets[sub].kr.Phase == beacon.PhaseUseNew {
					data.NetKey, data.Flags = n.subnets[sub].newKey, data.Flags|prov.FlagKeyRefresh
				}
				if err := s.Provisioner.Start(now, prov.Start{Algorithm: alg, AuthMethod: prov.AuthNoOOB}, data); err != nil {
					s.Provisioner.Abort(err)
				}
			case prov.EventComplete:
				if _, key, ok := s.Provisioner.Result(); ok {
					n.provRes.DevKey = key
				}
			}
		}
		for {
			out, ok := s.Transmit(now, n.pbadv[:0])
			if !ok {
				break
			}
			n.sendRaw(now, bearer.TypePBADV, out, 0)
		}
		if done, err := s.Finished(); done {
			n.provRes.Done, n.provRes.Err = true, err
			if err == nil {
				_ = n.AddDevKey(n.provRes.Address, n.provRes.Elements, n.provRes.DevKey)
			}
			n.provSess = nil
		}
	}
}

// ProvisionDevice starts provisioning the unprovisioned device uuid over
// PB-ADV (No OOB authentication, the best algorithm both support) and
// assigns it the primary address addr. Progress is driven by Receive and
// Tick; see [Node.ProvisionResult]. On success the device key is recorded
// for the Configuration Client.
func (n *Node) ProvisionDevice(now time.Time, uuid [16]byte, addr uint16) error {
	if !n.provisioned {
		return ErrNotProvisioned
	}
	if n.provSess != nil {
		return ErrBusy
	}
	var id [4]byte
	n.randRead(id[:])
	pc := prov.ProvisionerConfig{KeyPair: n.cfg.KeyPair, Rand: n.cfg.Rand}
	s, err := prov.NewProvisionerSession(uuid, binary.BigEndian.Uint32(id[:]), n.cfg.Link, pc)
	if err != nil {
		return err
	}
	if err := s.Open(now); err != nil {
		return err
	}
	n.provSess, n.provAddr = s, addr
	n.provRes = ProvisionResult{UUID: uuid, Address: addr}
	n.pumpProv(now)
	n.flush(now)
	return nil
}

// ProvisionResult returns the state of the last ProvisionDevice.
func (n *Node) ProvisionResult() ProvisionResult { return n.provRes }

// newDeviceSession prepares the device role of PB-ADV provisioning.
func (n *Node) newDeviceSession() error {
	dc := prov.DeviceConfig{
		Capabilities: prov.Capabilities{NumElements: uint8(n.nElems), Algorithms: n.cfg.Algorithms},
		KeyPair:      n.cfg.KeyPair, Rand: n.cfg.Rand,
	}
	s, err := prov.NewDeviceSession(n.cfg.UUID, n.cfg.Link, dc)
	if err != nil {
		return err
	}
	n.devSess = s
	return nil
}

func (n *Node) randRead(b []byte) {
	r := n.rand
	if r == nil {
		r = rand.Reader
	}
	_, _ = io.ReadFull(r, b)
}
