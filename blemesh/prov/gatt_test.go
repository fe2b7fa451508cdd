//go:build !tinygo

package prov

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/proxy"
)

// TestPBGATT provisions a device over PB-GATT: provisioning PDUs in proxy
// PDUs of type Provisioning, segmented to the ATT MTU (23 one way, 69 the
// other after an MTU exchange).
func TestPBGATT(t *testing.T) {
	now := time.Unix(0, 0)
	dev, _ := NewDevice(DeviceConfig{Capabilities: Capabilities{NumElements: 1, Algorithms: AlgorithmsCMAC | AlgorithmsHMAC},
		KeyPair: newToyKeyPair(1), Rand: newTestRand(3)})
	p, _ := NewProvisioner(ProvisionerConfig{KeyPair: newToyKeyPair(2), Rand: newTestRand(4)})
	client, err := NewGATTBearer(GATTConfig{}) // the provisioner writes Data In
	if err != nil {
		t.Fatal(err)
	}
	server, _ := NewGATTBearer(GATTConfig{MTU: 69}) // the device notifies Data Out
	p.Begin(now)
	values := 0
	for i := 0; i < 20 && p.State() != StateDone; i++ {
		for b, ok := p.Transmit(now, nil); ok; b, ok = p.Transmit(now, nil) {
			if err := client.Send(b); err != nil {
				t.Fatal(err)
			}
		}
		for v, ok := client.Transmit(nil); ok; v, ok = client.Transmit(nil) {
			values++
			if len(v) > 20 {
				t.Fatalf("value of %d octets over MTU 23", len(v))
			}
			pdu, err := server.Receive(now, v)
			if err != nil {
				t.Fatal(err)
			}
			if pdu != nil {
				dev.Receive(now, pdu)
			}
		}
		for b, ok := dev.Transmit(now, nil); ok; b, ok = dev.Transmit(now, nil) {
			server.Send(b)
		}
		for v, ok := server.Transmit(nil); ok; v, ok = server.Transmit(nil) {
			values++
			pdu, err := client.Receive(now, v)
			if err != nil {
				t.Fatal(err)
			}
			if pdu != nil {
				p.Receive(now, pdu)
			}
		}
		for e, ok := p.NextEvent(); ok; e, ok = p.NextEvent() {
			if e.Kind == EventCapabilities {
				if err := p.Start(now, Start{Algorithm: AlgHMAC}, ProvisioningData{UnicastAddress: 2}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	_, k1, ok1 := p.Result()
	_, k2, ok2 := dev.Result()
	if !ok1 || !ok2 || k1 != k2 {
		t.Fatalf("not provisioned: %v %v (%v %v)", p.State(), dev.State(), p.Err(), dev.Err())
	}
	if values < 12 {
		t.Fatalf("only %d ATT values: nothing was segmented", values)
	}
}

func TestGATTBearerErrors(t *testing.T) {
	now := time.Unix(0, 0)
	g, _ := NewGATTBearer(GATTConfig{MaxPDULen: 40, QueueLen: 1})
	// A proxy PDU of another type on the provisioning service.
	if _, err := g.Receive(now, []byte{0x00, 1, 2}); !errors.Is(err, ErrProxyType) {
		t.Fatalf("network PDU: %v", err)
	}
	if _, err := g.Receive(now, []byte{0x41, 1, 2}); !errors.Is(err, ErrProxyType) {
		t.Fatalf("segmented beacon: %v", err)
	}
	// SAR violations and the timeout come from the proxy layer.
	if _, err := g.Receive(now, []byte{0x83, 1}); !errors.Is(err, proxy.ErrUnexpectedSegment) {
		t.Fatalf("continuation first: %v", err)
	}
	g.Receive(now, []byte{0x43, 1})
	if err := g.Check(now.Add(proxy.DefaultTimeout)); !errors.Is(err, proxy.ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	if err := g.Send(make([]byte, 41)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	g.Send([]byte{1})
	if err := g.Send([]byte{2}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("queue: %v", err)
	}
	if err := g.SetMTU(22); err == nil {
		t.Fatal("MTU 22 accepted")
	}
	v, ok := g.Transmit(nil)
	if !ok || !bytes.Equal(v, []byte{0x03, 1}) {
		t.Fatalf("%x", v)
	}
	if _, err := NewGATTBearer(GATTConfig{MTU: 600}); err == nil {
		t.Fatal("MTU 600 accepted")
	}
}
