//go:build linux

package hci_test

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

// The TestInGuest* tests run inside the QEMU guest that TestBlueZGuest
// boots (EDGEKIT_IN_GUEST=1), where the kernel has Bluetooth and BlueZ's
// btvirt provides virtual controllers.

func inGuest(t *testing.T) {
	if os.Getenv("EDGEKIT_IN_GUEST") != "1" {
		t.Skip("runs inside the bluez guest (see TestBlueZGuest)")
	}
}

// exchange runs two mesh nodes over the two H:4 transports and checks that a
// message from the first reaches the second's model through the
// controllers.
func exchange(t *testing.T, a, b io.ReadWriteCloser) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	model := access.ModelID{ID: 0x1000}
	got := make(chan []byte, 8)
	var do [2]chan func(*node.Node, time.Time)
	var bears [2]*hci.Bearer
	for i, rw := range []io.ReadWriteCloser{a, b} {
		br := hci.New(rw, hci.Config{AdvInterval: 100 * time.Millisecond, AdvCount: 2})
		bears[i] = br
		defer br.Close()
		if err := br.Init(ctx); err != nil {
			t.Fatalf("controller %d init: %v", i, err)
		}
		n, err := node.New(node.Config{Bearer: br, NoBeacon: true, KeyPair: toyKeyPair(byte(i)), TransmitCount: 2,
			TransmitInterval: 150 * time.Millisecond,
			Elements:         []node.Element{{Models: []node.Model{{ID: model, Opcodes: []access.Opcode{0x8203}}}}},
			Handler: func(n *node.Node, now time.Time, m *node.Message) {
				if !m.DevKey {
					got <- append([]byte(nil), m.Params...)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		addr := uint16(i + 1)
		now := time.Now()
		if err := n.SelfProvision(now, prov.ProvisioningData{NetKey: [16]byte{7}, UnicastAddress: addr}, [16]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		ak := access.AppKeyAdd{AppKey: [16]byte{8}}
		p, _ := ak.AppendBinary(nil)
		_ = n.SendConfig(now, addr, access.OpAppKeyAdd, p)
		bind := access.ModelAppBind{ElementAddress: addr, Model: model}
		p, _ = bind.AppendBinary(nil)
		_ = n.SendConfig(now, addr, access.OpModelAppBind, p)
		do[i] = make(chan func(*node.Node, time.Time), 1)
		go func() { _ = hci.Run(ctx, br, n, do[i]) }()
	}
	for attempt := byte(0); attempt < 5; attempt++ {
		do[0] <- func(n *node.Node, now time.Time) {
			_ = n.Send(now, &node.Outgoing{DST: 2, TTL: 3, Opcode: 0x8203, Params: []byte{1, 40 + attempt}})
		}
		select {
		case p := <-got:
			if len(p) != 2 || p[0] != 1 {
				t.Fatalf("params %x", p)
			}
			t.Logf("delivered %x through the controllers; stats A %+v B %+v", p, bears[0].Stats(), bears[1].Stats())
			return
		case <-time.After(3 * time.Second):
		}
	}
	t.Fatalf("nothing delivered; stats A %+v B %+v", bears[0].Stats(), bears[1].Stats())
}

// TestInGuestSocketAir: two H:4 clients of btvirt -s (Unix socket), each a
// virtual LE controller on btvirt's shared air.
func TestInGuestSocketAir(t *testing.T) {
	inGuest(t)
	var conns []io.ReadWriteCloser
	for i := 0; i < 2; i++ {
		c, err := net.Dial("unix", "/tmp/bt-server-le")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	exchange(t, conns[0], conns[1])
}

// TestInGuestUserChannel: the kernel's hci0 and hci1 (btvirt -l2 over
// /dev/vhci), opened through HCI user channel sockets.
func TestInGuestUserChannel(t *testing.T) {
	inGuest(t)
	var conns []io.ReadWriteCloser
	for i := uint16(0); i < 2; i++ {
		c, err := hci.OpenUserChannel(i)
		if err != nil {
			t.Fatalf("hci%d: %v", i, err)
		}
		conns = append(conns, c)
	}
	exchange(t, conns[0], conns[1])
}

// TestInGuestMeshd is the device side of BlueZ's provisioner: an
// unprovisioned edgekit node on hci1 (HCI user channel) waits to be
// provisioned over PB-ADV by bluetooth-meshd (driven by mesh-cfgclient,
// see testdata/meshd-guest.sh) on hci0, then to receive an AppKey and a
// model binding through its Configuration Server.
func TestInGuestMeshd(t *testing.T) {
	inGuest(t)
	if os.Getenv("EDGEKIT_MESHD") != "1" {
		t.Skip("run by testdata/meshd-guest.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 140*time.Second)
	defer cancel()
	rw, err := hci.OpenUserChannel(1)
	if err != nil {
		t.Fatal(err)
	}
	br := hci.New(rw, hci.Config{AdvInterval: 100 * time.Millisecond, AdvCount: 2})
	defer br.Close()
	if err := br.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var uuid [16]byte
	for i := range uuid {
		uuid[i] = 0xdd
	}
	model := access.ModelID{ID: 0x1000}
	n, err := node.New(node.Config{UUID: uuid, Bearer: br, CID: 0x05f1, UnprovBeaconPeriod: time.Second,
		Elements: []node.Element{{Models: []node.Model{{ID: model, Opcodes: []access.Opcode{0x8201, 0x8202, 0x8203}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	do := make(chan func(*node.Node, time.Time))
	go func() {
		if err := hci.Run(ctx, br, n, do); err != nil && ctx.Err() == nil {
			t.Errorf("run: %v", err)
			cancel()
		}
	}()
	state := func() (prov bool, addr uint16, keys, bound int) {
		ch := make(chan struct{})
		f := func(n *node.Node, now time.Time) {
			prov, addr = n.Provisioned(), n.Address()
			cs := n.ConfigServer()
			keys = len(cs.AppKeys)
			for _, m := range cs.Models {
				if m.ID == model {
					bound = len(m.AppKeys)
				}
			}
			close(ch)
		}
		select {
		case do <- f:
			<-ch
		case <-ctx.Done():
		}
		return
	}
	wrote := false
	for ctx.Err() == nil {
		p, addr, keys, bound := state()
		if p && !wrote {
			t.Logf("provisioned by bluetooth-meshd: address %04x", addr)
			_ = os.WriteFile("/tmp/devaddr", []byte(strings4(addr)), 0o644)
			wrote = true
		}
		if p && keys > 0 && bound > 0 {
			t.Logf("configured by mesh-cfgclient: %d AppKey(s), OnOff server bound to %d", keys, bound)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	p, addr, keys, bound := state()
	t.Fatalf("not done: provisioned %v address %04x appkeys %d bound %d; bearer %+v", p, addr, keys, bound, br.Stats())
}

func strings4(a uint16) string {
	const hex = "0123456789abcdef"
	return string([]byte{hex[a>>12], hex[a>>8&15], hex[a>>4&15], hex[a&15]})
}
