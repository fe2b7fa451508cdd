package client_test

import (
	"context"
	"testing"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// TestAllocs measures the whole publish path, every goroutine of the
// client included (AllocsPerRun counts process-wide), against an
// in-memory broker that acknowledges everything.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	for _, v := range versions() {
		for _, tc := range []struct {
			name string
			qos  uint8
			max  float64
		}{{"qos0", 0, 0}, {"qos1", 1, 0.1}, {"qos2", 2, 0.1}} {
			t.Run(v.String()+"/"+tc.name, func(t *testing.T) {
				fb := newFakeBroker(t, v)
				c := fakeClient(t, fb, client.Config{})
				c.Start()
				fc := fb.next()
				fc.accept(false, mqtt.Properties{})
				wait := fc.serve()
				defer wait()
				defer c.Close()
				ctx := context.Background()
				p := &mqtt.Publish{Topic: []byte("sensors/gw-1/temp"), QoS: tc.qos, Payload: []byte(`{"t":21.5,"u":"Cel"}`)}
				if v == mqtt.V5 {
					p.Props.AddUser("site", "b1")
					p.Props.Set(mqtt.PropMessageExpiry, 3600)
				}
				for range 200 { // warm up buffers, pools and maps
					if err := c.Publish(ctx, p); err != nil {
						t.Fatal(err)
					}
				}
				allocs := testing.AllocsPerRun(2000, func() {
					if err := c.Publish(ctx, p); err != nil {
						t.Fatal(err)
					}
				})
				t.Logf("%.3f allocations per publish", allocs)
				if allocs > tc.max {
					t.Fatalf("%.3f allocations per publish, want <= %v", allocs, tc.max)
				}
			})
		}
	}
}
