package filestore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// Messages queued while the broker is unreachable survive the process:
// a new client on the same store finds them and sends them once it
// connects.
func Example() {
	dir, _ := os.MkdirTemp("", "filestore")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	st, err := filestore.Open(dir, filestore.Config{Sync: filestore.SyncAlways, Full: client.FullDropQoS0, Logger: quiet})
	if err != nil {
		panic(err)
	}
	c, _ := client.New(client.Config{Addr: "127.0.0.1:1", Version: mqtt.V5, ClientID: "gw-17",
		Store: st, ReturnWhenStored: true, Logger: quiet})
	for i := range 5 {
		_ = c.Publish(ctx, &mqtt.Publish{Topic: []byte("gw-17/temp"), QoS: 1, Payload: []byte(fmt.Sprint(20 + i))})
	}
	c.Close()
	st.Close() // or the process dies here

	st, err = filestore.Open(dir, filestore.Config{Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	fmt.Println("pending after restart:", st.Stats().Records, "torn bytes:", st.Recovery().TornBytes)
	// Output:
	// pending after restart: 5 torn bytes: 0
}
