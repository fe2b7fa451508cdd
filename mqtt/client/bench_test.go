package client_test

import (
	"context"
	"testing"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// BenchmarkPublish measures the client alone, against an in-memory broker
// that acknowledges everything (see bench/mqttclient for real brokers).
func BenchmarkPublish(b *testing.B) {
	for _, qos := range []uint8{0, 1, 2} {
		b.Run("qos"+string(rune('0'+qos)), func(b *testing.B) {
			fb := newFakeBroker(b, mqtt.V5)
			c := fakeClient(b, fb, client.Config{})
			c.Start()
			fc := fb.next()
			fc.accept(false, mqtt.Properties{})
			wait := fc.serve()
			defer wait()
			defer c.Close()
			ctx := context.Background()
			p := &mqtt.Publish{Topic: []byte("sensors/gw-1/temp"), QoS: qos, Payload: []byte(`{"t":21.5,"u":"Cel"}`)}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.Publish(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFileStore appends and deletes client records (a 200-byte JSON
// telemetry PUBLISH) with each codec, SyncNever so that the disk does not
// dominate; stored/raw is the compression ratio.
func BenchmarkFileStore(b *testing.B) {
	payload := []byte(`{"bn":"urn:dev:gw-17:","bt":1700000000,"e":[{"n":"temp","u":"Cel","v":21.5},{"n":"hum","u":"%RH","v":40.25},{"n":"co2","u":"ppm","v":612},{"n":"batt","u":"%","v":97}]}`)
	for _, cc := range []struct {
		name string
		c    filestore.Compression
	}{{"s2", filestore.CompressS2}, {"zstd", filestore.CompressZstd}, {"none", filestore.CompressNone}} {
		b.Run(cc.name, func(b *testing.B) {
			st, err := filestore.Open(b.TempDir(), filestore.Config{Sync: filestore.SyncNever, Compression: cc.c, Logger: discardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			c, err := client.New(client.Config{Addr: "127.0.0.1:1", Version: mqtt.V5, Store: st, ReturnWhenStored: true, Logger: discardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			p := &mqtt.Publish{Topic: []byte("sensors/gw-17/senml"), QoS: 1, Payload: payload}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.Publish(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s := st.Stats()
			b.ReportMetric(float64(s.Bytes)/float64(s.Records), "stored-B/msg")
		})
	}
}

// BenchmarkPublishDurable: 20 concurrent publishers waiting for the
// broker's acknowledgement, with the file store (the in-memory broker
// acknowledges at once), so the figure is the store's cost per message:
// SyncAlways pays an fsync per record (shared by concurrent publishers);
// QoS 2 adds two state changes per message (packet id, PUBREL sent).
func BenchmarkPublishDurable(b *testing.B) {
	for _, sync := range []struct {
		name string
		p    filestore.SyncPolicy
	}{{"always", filestore.SyncAlways}, {"never", filestore.SyncNever}} {
		for _, qos := range []uint8{1, 2} {
			b.Run(sync.name+"/qos"+string(rune('0'+qos)), func(b *testing.B) {
				st, err := filestore.Open(b.TempDir(), filestore.Config{Sync: sync.p, Logger: discardLogger()})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				fb := newFakeBroker(b, mqtt.V5)
				c := fakeClient(b, fb, client.Config{Store: st, MaxInflight: 20, Logger: discardLogger()})
				c.Start()
				fc := fb.next()
				fc.accept(false, mqtt.Properties{})
				wait := fc.serve()
				defer wait()
				defer c.Close()
				ctx := context.Background()
				p := &mqtt.Publish{Topic: []byte("sensors/gw-1/temp"), QoS: qos, Payload: []byte(`{"t":21.5,"u":"Cel"}`)}
				b.ReportAllocs()
				b.SetParallelism(10) // 20 publishers on 2 CPUs
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.Publish(ctx, p); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
