package hci_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/hci"
	"github.com/edgekit/edgekit/blemesh/node"
	"github.com/edgekit/edgekit/blemesh/prov"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestInit(t *testing.T) {
	air := &fakeAir{}
	c := air.newCtrl(t, 1)
	b := hci.New(c.host, hci.Config{})
	defer b.Close()
	if err := b.Init(ctx(t)); err != nil {
		t.Fatal(err)
	}
	want := []uint16{hci.OpReset, hci.OpSetEventMask, hci.OpLESetEventMask, hci.OpLESetScanEnable,
		hci.OpLESetAdvParams, hci.OpLESetScanParams, hci.OpLESetScanEnable}
	got := c.commands()
	if len(got) != len(want) {
		t.Fatalf("commands %04x, want %04x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("commands %04x, want %04x", got, want)
		}
	}
	if p := c.param(hci.OpLESetAdvParams); len(p) != 15 || p[4] != hci.AdvNonconnInd || p[13] != 7 {
		t.Fatalf("adv params %x", p)
	}
	if p := c.param(hci.OpLESetScanEnable); !bytes.Equal(p, []byte{1, 0}) {
		t.Fatalf("scan enable %x (duplicate filtering must be off)", p)
	}
	if p := c.param(hci.OpLESetScanParams); p[0] != 0 {
		t.Fatalf("scan params %x (want passive)", p)
	}
}

func TestSendAdvertises(t *testing.T) {
	air := &fakeAir{}
	c := air.newCtrl(t, 1)
	b := hci.New(c.host, hci.Config{AdvInterval: 2 * time.Millisecond, AdvCount: 1})
	defer b.Close()
	if err := b.Init(ctx(t)); err != nil {
		t.Fatal(err)
	}
	pdu := []byte{1, 2, 3, 4, 5}
	if err := b.Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: pdu}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cmds := c.commands()
		if n := len(cmds); n >= 3 && cmds[n-1] == hci.OpLESetAdvEnable && c.param(hci.OpLESetAdvEnable)[0] == 0 {
			data := c.param(hci.OpLESetAdvData)
			want := append([]byte{7, 6, 0x2a}, pdu...)
			if len(data) != 32 || !bytes.Equal(data[:len(want)], want) {
				t.Fatalf("adv data %x", data)
			}
			if b.Stats().TxSent != 1 {
				t.Fatalf("stats %+v", b.Stats())
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no advertising cycle: %04x", c.commands())
}

func TestCommandStatusError(t *testing.T) {
	air := &fakeAir{}
	c := air.newCtrl(t, 1)
	c.failOps[hci.OpLESetAdvParams] = 0x12 // Invalid HCI Command Parameters
	b := hci.New(c.host, hci.Config{})
	defer b.Close()
	err := b.Init(ctx(t))
	var se hci.StatusError
	if !errors.As(err, &se) || se.Opcode != hci.OpLESetAdvParams || se.Status != 0x12 {
		t.Fatalf("err = %v", err)
	}
}

// TestReaderNeverBlocks floods the host with advertising reports nobody
// consumes: the reader drops them and commands still complete.
func TestReaderNeverBlocks(t *testing.T) {
	air := &fakeAir{}
	c := air.newCtrl(t, 1)
	b := hci.New(c.host, hci.Config{RxQueueLen: 8})
	defer b.Close()
	if err := b.Init(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		c.report([6]byte{9}, []byte{4, 0x2a, byte(i), 2, 3, 2, 0x01, 0x06}, -50)
	}
	start := time.Now()
	if _, err := b.Command(ctx(t), hci.OpReset, nil, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("command took %v behind the flood", d)
	}
	// Wait for the flood to be read.
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().RxReports < 500 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := b.Stats()
	if st.RxReports != 500 || st.RxMesh != 500 || st.RxDropped != 500-8 || len(b.Received()) != 8 {
		t.Fatalf("stats %+v, queued %d", st, len(b.Received()))
	}
	r := <-b.Received()
	if a := r.Adv(); a.Type != bearer.TypeMessage || !bytes.Equal(a.Payload, []byte{0, 2, 3}) || r.RSSI != -50 || r.Addr[0] != 9 {
		t.Fatalf("first report %+v", r)
	}
}

// TestNodesOverHCI runs two mesh nodes, each on its own fake controller,
// sharing a fake air: a message from one reaches the other's model.
func TestNodesOverHCI(t *testing.T) {
	air := &fakeAir{}
	ctxt := ctx(t)
	type end struct {
		b  *hci.Bearer
		n  *node.Node
		do chan func(*node.Node, time.Time)
	}
	got := make(chan []byte, 4)
	model := access.ModelID{ID: 0x1000}
	var ends []end
	for i := 0; i < 2; i++ {
		c := air.newCtrl(t, byte(i+1))
		b := hci.New(c.host, hci.Config{AdvInterval: 2 * time.Millisecond, AdvCount: 1})
		t.Cleanup(func() { b.Close() })
		if err := b.Init(ctxt); err != nil {
			t.Fatal(err)
		}
		cfg := node.Config{Bearer: b, NoBeacon: true, KeyPair: toyKeyPair(byte(i)),
			Elements: []node.Element{{Models: []node.Model{{ID: model, Opcodes: []access.Opcode{0x8203}}}}},
			Handler: func(n *node.Node, now time.Time, m *node.Message) {
				if !m.DevKey {
					got <- append([]byte(nil), m.Params...)
				}
			}}
		n, err := node.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		addr := uint16(i + 1)
		if err := n.SelfProvision(now, prov.ProvisioningData{NetKey: [16]byte{7}, UnicastAddress: addr}, [16]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		ak := access.AppKeyAdd{AppKeyIndex: 0, AppKey: [16]byte{8}}
		p, _ := ak.AppendBinary(nil)
		_ = n.SendConfig(now, addr, access.OpAppKeyAdd, p)
		bind := access.ModelAppBind{ElementAddress: addr, AppKeyIndex: 0, Model: model}
		p, _ = bind.AppendBinary(nil)
		_ = n.SendConfig(now, addr, access.OpModelAppBind, p)
		e := end{b, n, make(chan func(*node.Node, time.Time), 1)}
		ends = append(ends, e)
		runCtx, cancel := context.WithCancel(ctxt)
		done := make(chan struct{})
		go func() { defer close(done); _ = hci.Run(runCtx, b, n, e.do) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	ends[0].do <- func(n *node.Node, now time.Time) {
		if err := n.Send(now, &node.Outgoing{DST: 2, AppKeyIndex: 0, TTL: 3, Opcode: 0x8203, Params: []byte{1, 42}}); err != nil {
			t.Error(err)
		}
	}
	select {
	case p := <-got:
		if !bytes.Equal(p, []byte{1, 42}) {
			t.Fatalf("params %x", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not delivered; bearer stats %+v / %+v", ends[0].b.Stats(), ends[1].b.Stats())
	}
}
