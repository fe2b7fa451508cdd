package broker

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/edgekit/edgekit/mqtt"
)

// BenchmarkFanout publishes QoS 0 messages to 10 in-process subscribers
// that drain their connections: the routing, queueing and batched-write
// path (not the network).
func BenchmarkFanout(b *testing.B) {
	br, err := New(Config{SysInterval: -1, PublishRate: -1, MaxQueuedMessages: 1 << 20, MaxQueuedBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	for i := range 10 {
		c := pipeClient(b, br, v5("s"+strconv.Itoa(i)))
		c.sub("bench/#", 0)
		go io.Copy(io.Discard, c.nc)
	}
	p := &mqtt.Publish{Topic: []byte("bench/x"), Payload: make([]byte, 64)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		br.Publish(ctx, p)
	}
}
