//go:build !tinygo

package prov_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/edgekit/edgekit/blemesh/prov"
)

// Frame the specification's Provisioning Invite (§8.7.3) for PB-ADV and
// read it back with a device's link.
func ExampleLink() {
	uuid := [16]byte{0x70, 0xcf, 0x7c, 0x97, 0x32, 0xa3, 0x45, 0xb6, 0x91, 0x49, 0x48, 0x10, 0xd2, 0xe9, 0xcb, 0xf4}
	now := time.Unix(0, 0)
	dev, _ := prov.NewDeviceLink(prov.LinkConfig{}, uuid)
	dev.Receive(now, prov.AppendLinkOpen(nil, 0x23af5850, &uuid))
	for ack, ok := dev.Transmit(now, nil); ok; ack, ok = dev.Transmit(now, nil) {
		fmt.Printf("link ack    %x\n", ack) // sent twice, as Zephyr repeats it
	}

	invite, _ := prov.AppendSegment(nil, 0x23af5850, 0x00, []byte{0x00, 0x00}, 0)
	fmt.Printf("invite      %x\n", invite)
	pdu, _ := dev.Receive(now, invite)
	fmt.Printf("delivered   %x\n", pdu)
	tack, _ := dev.Transmit(now, nil)
	fmt.Printf("transaction %x\n", tack)
	// Output:
	// link ack    23af58500007
	// link ack    23af58500007
	// invite      23af585000000002140000
	// delivered   0000
	// transaction 23af58500001
}

// Compute the specification's provisioning session (§8.17.1) from the ECDH
// secret and both random values.
func ExampleSession() {
	ppk, _ := hex.DecodeString("2c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4f")
	dpk, _ := hex.DecodeString("f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279")
	secret, _ := hex.DecodeString("ab85843a2f6d883f62e5684b38e307335fe6e1945ecd19604105c6f23221eb69")
	rp, _ := hex.DecodeString("8b19ac31d58b124c946209b5db1021b9")
	rd, _ := hex.DecodeString("55a2a2bca04cd32ff6f346bd0a0c1a3a")

	caps := prov.Capabilities{NumElements: 1, Algorithms: prov.AlgorithmsCMAC}
	s := prov.Session{Algorithm: prov.AlgCMAC, ECDHSecret: [32]byte(secret)}
	s.Inputs = prov.ConfirmationInputs(&prov.Invite{}, &caps, &prov.Start{}, (*[64]byte)(ppk), (*[64]byte)(dpk))
	s.DeriveConfirmationKey()
	randP, _ := prov.ValueOf(rp)
	randD, _ := prov.ValueOf(rd)
	conf, _ := s.Confirm(&randP)
	s.DeriveSessionKeys(&randP, &randD)
	fmt.Printf("confirmation %x\n", conf.Bytes())
	fmt.Printf("device key   %x\n", s.DeviceKey)
	data, _ := s.EncryptData(&prov.ProvisioningData{
		NetKey:   [16]byte{0xef, 0xb2, 0x25, 0x5e, 0x64, 0x22, 0xd3, 0x30, 0x08, 0x8e, 0x09, 0xbb, 0x01, 0x5e, 0xd7, 0x07},
		KeyIndex: 0x0567, IVIndex: 0x01020304, UnicastAddress: 0x0b0c,
	})
	fmt.Printf("data         %x %x\n", data.Encrypted, data.MIC)
	// Output:
	// confirmation b38a114dfdca1fe153bd2c1e0dc46ac2
	// device key   0520adad5e0142aa3e325087b4ec16d8
	// data         d0bd7f4a89a2ff6222af59a90a60ad58acfe3123356f5cec29 73e0ec50783b10c7
}

// toyKeys stands in for a P-256 key pair so the example runs anywhere; use
// prov.GenerateP256 (or a chip's crypto engine) in real code.
type toyKeys struct{ pub [64]byte }

func (k toyKeys) PublicKey() [64]byte { return k.pub }
func (k toyKeys) ECDH(peer *[64]byte) ([32]byte, error) {
	var s [32]byte
	for i := range s {
		s[i] = k.pub[i] ^ peer[i]
	}
	return s, nil
}

// Run a provisioner and a device against each other, moving PDUs directly
// (a PB-ADV Link or a GATTBearer sits in between in real use).
func Example() {
	now := time.Unix(0, 0)
	dev, _ := prov.NewDevice(prov.DeviceConfig{
		Capabilities: prov.Capabilities{NumElements: 1, Algorithms: prov.AlgorithmsCMAC | prov.AlgorithmsHMAC},
		KeyPair:      toyKeys{pub: [64]byte{1}},
		Rand:         bytes.NewReader(bytes.Repeat([]byte{0x11}, 64)),
	})
	p, _ := prov.NewProvisioner(prov.ProvisionerConfig{
		KeyPair: toyKeys{pub: [64]byte{2}},
		Rand:    bytes.NewReader(bytes.Repeat([]byte{0x22}, 64)),
	})
	p.Begin(now)
	for i := 0; i < 10 && p.State() != prov.StateDone; i++ {
		for pdu, ok := p.Transmit(now, nil); ok; pdu, ok = p.Transmit(now, nil) {
			fmt.Println("provisioner ->", prov.PDUType(pdu[0]))
			dev.Receive(now, pdu)
		}
		for pdu, ok := dev.Transmit(now, nil); ok; pdu, ok = dev.Transmit(now, nil) {
			fmt.Println("device      ->", prov.PDUType(pdu[0]))
			p.Receive(now, pdu)
		}
		for e, ok := p.NextEvent(); ok; e, ok = p.NextEvent() {
			if e.Kind == prov.EventCapabilities {
				p.Start(now, prov.Start{Algorithm: prov.AlgHMAC}, prov.ProvisioningData{UnicastAddress: 0x0100})
			}
		}
	}
	_, k1, _ := p.Result()
	data, k2, _ := dev.Result()
	fmt.Println(k1 == k2, data.UnicastAddress)
	// Output:
	// provisioner -> invite
	// device      -> capabilities
	// provisioner -> start
	// provisioner -> public-key
	// device      -> public-key
	// provisioner -> confirmation
	// device      -> confirmation
	// provisioner -> random
	// device      -> random
	// provisioner -> data
	// device      -> complete
	// true 256
}

// Provision a device over PB-ADV with the two sessions, moving the PB-ADV
// payloads (the data of AD structures of type 0x29) through an in-memory
// "air" and driving time by hand.
func ExampleProvisionerSession() {
	uuid := [16]byte{0xde, 0xad, 0xbe, 0xef}
	dev, _ := prov.NewDeviceSession(uuid, prov.LinkConfig{}, prov.DeviceConfig{
		Capabilities: prov.Capabilities{NumElements: 2, Algorithms: prov.AlgorithmsCMAC | prov.AlgorithmsHMAC,
			OutputOOBSize: 4, OutputOOBAction: 1 << prov.OutputNumeric},
		KeyPair: toyKeys{pub: [64]byte{1}},
		Rand:    bytes.NewReader(bytes.Repeat([]byte{0x42}, 256)),
	})
	ps, _ := prov.NewProvisionerSession(uuid, 0x1234abcd, prov.LinkConfig{}, prov.ProvisionerConfig{
		KeyPair: toyKeys{pub: [64]byte{2}},
		Rand:    bytes.NewReader(bytes.Repeat([]byte{0x17}, 256)),
	})
	now := time.Unix(0, 0)
	ps.Open(now)
	var shown uint32
	for {
		for adv, ok := ps.Transmit(now, nil); ok; adv, ok = ps.Transmit(now, nil) {
			dev.Receive(now, adv)
		}
		for adv, ok := dev.Transmit(now, nil); ok; adv, ok = dev.Transmit(now, nil) {
			ps.Receive(now, adv)
		}
		for e, ok := dev.NextEvent(); ok; e, ok = dev.NextEvent() {
			if e.Kind == prov.EventOutputOOB {
				shown = e.Number // the device displays it; the user reads it
			}
		}
		for e, ok := ps.NextEvent(); ok; e, ok = ps.NextEvent() {
			switch e.Kind {
			case prov.EventCapabilities:
				ps.Provisioner.Start(now,
					prov.Start{Algorithm: prov.AlgHMAC, AuthMethod: prov.AuthOutputOOB, AuthAction: prov.OutputNumeric, AuthSize: 4},
					prov.ProvisioningData{NetKey: [16]byte{7}, UnicastAddress: 0x0100})
			case prov.EventInputOOB:
				ps.Provisioner.InputNumber(now, shown) // ... and types it in
			}
		}
		if done, err := ps.Finished(); done {
			fmt.Println("finished:", err)
			break
		}
		now = now.Add(20 * time.Millisecond)
		ps.Tick(now)
		dev.Tick(now)
	}
	data, devKey, ok := dev.Result()
	_, provKey, _ := ps.Provisioner.Result()
	fmt.Println(ok, data.UnicastAddress, devKey == provKey)
	// Output:
	// finished: <nil>
	// true 256 true
}
