package client_test

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// FuzzReceive feeds arbitrary bytes from a "broker" to a connected
// client (MQTT 3.1.1 or 5 by the first byte): it must not panic, hang or
// leak goroutines, whatever arrives.
func FuzzReceive(f *testing.F) {
	seed := func(v mqtt.Version, pkts ...mqtt.Packet) {
		b := []byte{byte(v)}
		for _, p := range pkts {
			b, _ = p.AppendBinary(b)
		}
		f.Add(b)
	}
	pub := &mqtt.Publish{Version: mqtt.V5, QoS: 2, ID: 7, Topic: []byte("a/b"), Payload: []byte("x")}
	pub.Props.Set(mqtt.PropTopicAlias, 1)
	alias := &mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: 8, Payload: []byte("y")}
	alias.Props.Set(mqtt.PropTopicAlias, 1)
	seed(mqtt.V5, pub, alias, pub, &mqtt.Ack{Type: mqtt.TypePubrel, Version: mqtt.V5, ID: 7})
	seed(mqtt.V311, &mqtt.Publish{QoS: 1, ID: 1, Topic: []byte("t"), Payload: []byte("p")},
		&mqtt.Ack{Type: mqtt.TypePuback, ID: 1}, &mqtt.Ack{Type: mqtt.TypePubrec, ID: 2}, &mqtt.Ack{Type: mqtt.TypePubcomp, ID: 3},
		&mqtt.Suback{ID: 1, Codes: []mqtt.ReasonCode{1}}, &mqtt.Ping{Type: mqtt.TypePingresp})
	seed(mqtt.V5, &mqtt.Disconnect{Version: mqtt.V5, Code: mqtt.ServerShuttingDown}, &mqtt.Auth{Version: mqtt.V5, Code: mqtt.ReAuthenticate})
	f.Add([]byte{5, 0x30, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{4, 0xf0, 0})
	base := runtime.NumGoroutine()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		v := mqtt.V311
		if data[0]&1 == 1 {
			v = mqtt.V5
		}
		data = data[1:]
		served := make(chan struct{})
		c, err := client.New(client.Config{Version: v, TopicAliasMaximum: aliasMax(v), ClientID: "fuzz",
			MinBackoff: time.Hour, Logger: discardLogger(), Handler: func(*mqtt.Publish) {},
			Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
				a, b := net.Pipe()
				go func() {
					defer close(served)
					defer b.Close()
					b.SetDeadline(time.Now().Add(5 * time.Second))
					fr := mqtt.NewFramer(b, nil, mqtt.FramerConfig{Version: v})
					if _, err := fr.ReadPacket(); err != nil {
						return
					}
					ack, _ := (&mqtt.Connack{Version: v}).AppendBinary(nil)
					if _, err := b.Write(append(ack, data...)); err != nil {
						return
					}
					io.Copy(io.Discard, b) // until the client closes
				}()
				return a, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Connect(ctx)
		time.Sleep(time.Millisecond)
		c.Close()
		<-served
		if n := runtime.NumGoroutine(); n > base+20 {
			t.Fatalf("%d goroutines, %d at start", n, base)
		}
	})
}

func aliasMax(v mqtt.Version) uint16 {
	if v == mqtt.V5 {
		return 4
	}
	return 0
}
