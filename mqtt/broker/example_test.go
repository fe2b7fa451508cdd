package broker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/broker"
)

// An in-process client subscribes through Pipe and receives a message the
// application publishes.
func Example() {
	b, err := broker.New(broker.Config{SysInterval: -1})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	conn, _ := b.Pipe()
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fr := mqtt.NewFramer(conn, conn, mqtt.FramerConfig{})
	fr.WritePacket(&mqtt.Connect{Version: mqtt.V5, CleanStart: true, ClientID: []byte("app")})
	fr.ReadPacket() // CONNACK
	fr.WritePacket(&mqtt.Subscribe{Version: mqtt.V5, ID: 1,
		Filters: []mqtt.Subscription{{Filter: []byte("sensors/+/temp"), QoS: 1}}})
	fr.ReadPacket() // SUBACK

	b.Publish(context.Background(), &mqtt.Publish{Topic: []byte("sensors/7/temp"), Payload: []byte("21.5")})
	p, err := fr.ReadPacket()
	if err != nil {
		panic(err)
	}
	pub := p.(*mqtt.Publish)
	fmt.Printf("%s %s\n", pub.Topic, pub.Payload)
	// Output: sensors/7/temp 21.5
}
