// Command loadgen drives a running gateway from a separate process and
// measures readings/s from CoAP in to MQTT out at the upstream broker,
// with the p50/p99 latency from CoAP send to upstream arrival:
//
//	mosquitto -c mosq.conf &     # listener 1884, max_inflight_messages 1000
//	gateway -config gw.toml &    # coap.listen 127.0.0.1:5683, uplink.addr 127.0.0.1:1884
//	loadgen -target 127.0.0.1:5683 -upstream 127.0.0.1:1884 -gateway gw -duration 5s
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/edgekit/edgekit/examples/gateway/loadgen"
)

func main() {
	var cfg loadgen.Config
	target := flag.String("target", "127.0.0.1:5683", "the gateway's CoAP address")
	flag.StringVar(&cfg.Upstream, "upstream", "127.0.0.1:1884", "the upstream broker the gateway bridges to")
	flag.StringVar(&cfg.Gateway, "gateway", "gw", "the gateway's name")
	flag.IntVar(&cfg.Senders, "senders", 16, "concurrent CoAP senders")
	flag.IntVar(&cfg.Window, "window", 4, "outstanding CON requests per sender")
	flag.IntVar(&cfg.Readings, "readings", 1, "SenML records per upload")
	flag.IntVar(&cfg.Rate, "rate", 0, "target uploads/s over all senders (0: unpaced)")
	flag.DurationVar(&cfg.Duration, "duration", 5*time.Second, "sending time")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: -target:", err)
		os.Exit(2)
	}
	cfg.Target = ap
	res, err := loadgen.Run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Println(res)
}
