package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/edgekit/edgekit/examples/gateway/loadgen"
)

// BenchmarkGatewayLoad is the load harness: CoAP senders on loopback POST
// SenML to the gateway, which bridges every reading (QoS 1, durable file
// store) to a mosquitto upstream, where a subscriber counts arrivals and
// measures the send-to-arrival latency. Run it with -benchtime=1x; each
// run sends for LOAD_SECONDS (default 3). LOAD_READINGS sets the SenML
// records per upload (default 1), LOAD_SENDERS the senders (default 16),
// LOAD_RATE a paced upload rate (default 0: as fast as acknowledged; the
// latency figures are only meaningful below saturation).
// The gateway, the load and mosquitto share the machine.
//
//	go test -run XXX -bench GatewayLoad -benchtime 1x .
func BenchmarkGatewayLoad(b *testing.B) {
	mq := startMosquitto(b, "max_inflight_messages 1000", "max_queued_messages 1000000", "max_queued_bytes 0")
	env := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	cfg := loadgen.Config{Upstream: mq.Addr, Gateway: "bench", Senders: env("LOAD_SENDERS", 16), Window: 4,
		Readings: env("LOAD_READINGS", 1), Duration: time.Duration(env("LOAD_SECONDS", 3)) * time.Second,
		Rate: env("LOAD_RATE", 0)}
	store := b.TempDir()
	g, _ := startGatewayTB(b, fmt.Sprintf(`
gateway = "bench"
log_level = "warn"
[coap]
listen = "127.0.0.1:0"
[uplink]
addr = %q
store_dir = %q
[devices]
state_interval = "1s"
`, mq.Addr, store))
	cfg.Target = g.CoAPAddr()
	b.ResetTimer()
	var last loadgen.Result
	for i := 0; i < b.N; i++ {
		res, err := loadgen.Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		last = res
	}
	b.StopTimer()
	b.ReportMetric(last.Rate(), "readings/s")
	b.ReportMetric(float64(last.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(last.P99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(last.Refused), "refused")
	b.Logf("%v", last)
	st := g.Status()
	b.Logf("gateway: uplink sent %d acked %d stored %d; drops %v", st.Uplink.Sent, st.Uplink.Acked, st.Queues.UplinkStored, st.Drops)
}
