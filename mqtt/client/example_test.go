package client_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// Store-and-forward: with ReturnWhenStored, Publish returns once the
// message is in the store, even while the broker is unreachable; the
// client sends it when a connection succeeds.
func Example() {
	dir, _ := os.MkdirTemp("", "mqtt-store")
	defer os.RemoveAll(dir)
	st, err := filestore.Open(dir, filestore.Config{Full: client.FullDropQoS0})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	c, err := client.New(client.Config{
		Addr:     "127.0.0.1:1", // nothing listens here
		Version:  mqtt.V5,
		ClientID: "gw-17", SessionExpiry: 3600,
		Store: st, ReturnWhenStored: true,
		Logger: discardLogger(),
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 3 {
		err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("gw-17/temp"), QoS: 1, Payload: []byte(fmt.Sprint(20 + i))})
		fmt.Println("stored:", err == nil)
	}
	s := c.Stats()
	fmt.Println("queued", s.Queued, "in store", s.Stored, "connected", s.Connected)
	// Output:
	// stored: true
	// stored: true
	// stored: true
	// queued 3 in store 3 connected false
}

// Subscribe with a handler per filter; the default handler gets the rest.
func ExampleClient_Subscribe() {
	c, err := client.New(client.Config{Addr: "broker.local:1883", Version: mqtt.V5, ClientID: "gw-17",
		Handler: func(m *mqtt.Publish) { fmt.Printf("other: %s\n", m.Topic) }})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("not yet connected:", err) // the client keeps trying
	}
	codes, err := c.Subscribe(ctx, func(m *mqtt.Publish) {
		fmt.Printf("command %s: %s\n", m.Topic, m.Payload) // m is valid during the call only
	}, mqtt.Subscription{Filter: []byte("gw-17/cmd/#"), QoS: 2})
	fmt.Println(codes, err)
}
