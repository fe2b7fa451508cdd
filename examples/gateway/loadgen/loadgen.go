// Package loadgen drives a gateway on loopback for the load harness:
// raw-UDP CoAP senders POST SenML readings (each stamped with its send time)
// to the gateway, and an MQTT subscriber on the upstream broker counts what
// arrives and measures the latency from CoAP send to MQTT arrival.
//
// It is used by BenchmarkGatewayLoad in examples/gateway and by the
// command in ./cmd (the gateway and the load in separate processes).
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// Config describes one load run.
type Config struct {
	Target   netip.AddrPort // the gateway's CoAP address
	Upstream string         // the upstream broker (host:port) to count arrivals at
	Gateway  string         // the gateway name (topic level 2)
	Senders  int            // concurrent CoAP senders (default 16)
	Window   int            // outstanding CON requests per sender (default 4)
	Readings int            // readings per upload (SenML records; default 1)
	Duration time.Duration  // sending time (default 3 s)
	Rate     int            // target uploads/s over all senders; 0: as fast as acknowledgements allow
	Drain    time.Duration  // extra time to wait for arrivals (default 3 s)
}

// Result is what a run measured.
type Result struct {
	Uploads      uint64        // uploads acknowledged with 2.04
	Refused      uint64        // uploads answered 5.03 (ring full) or not within 200 ms
	ReadingsSent uint64        // readings in acknowledged uploads
	Received     uint64        // reading messages that arrived upstream
	Elapsed      time.Duration // from the first send to the last arrival
	P50, P99     time.Duration // CoAP send -> upstream arrival
	Max          time.Duration
}

// InRate is acknowledged readings per second of sending.
func (r Result) String() string {
	rate := float64(r.Received) / r.Elapsed.Seconds()
	return fmt.Sprintf("uploads %d (refused %d), readings sent %d, received upstream %d in %v = %.0f readings/s; latency p50 %v p99 %v max %v",
		r.Uploads, r.Refused, r.ReadingsSent, r.Received, r.Elapsed.Round(time.Millisecond), rate, r.P50, r.P99, r.Max)
}

// Rate is received readings per second.
func (r Result) Rate() float64 { return float64(r.Received) / r.Elapsed.Seconds() }

func (c *Config) defaults() {
	if c.Senders == 0 {
		c.Senders = 16
	}
	if c.Window == 0 {
		c.Window = 4
	}
	if c.Readings == 0 {
		c.Readings = 1
	}
	if c.Duration == 0 {
		c.Duration = 3 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = 3 * time.Second
	}
}

// Run runs the load and returns what it measured.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	var res Result
	// The counting subscriber on the upstream.
	var mu sync.Mutex
	lat := make([]time.Duration, 0, 1<<20)
	var received atomic.Uint64
	var lastArrival atomic.Int64
	tKey := []byte(`"t":`)
	sub, err := client.New(client.Config{Addr: cfg.Upstream, Version: mqtt.V5, ClientID: "loadgen-sub", CleanStart: true,
		ReceiveMaximum: 4096, DeliveryQueue: 8192,
		Handler: func(m *mqtt.Publish) {
			i := bytes.Index(m.Payload, tKey)
			if i < 0 || !bytes.HasSuffix(m.Topic, []byte("/x")) {
				return
			}
			rest := m.Payload[i+len(tKey):]
			if j := bytes.IndexByte(rest, '}'); j >= 0 {
				rest = rest[:j]
			}
			sec, err := strconv.ParseFloat(string(rest), 64)
			if err != nil {
				return
			}
			now := time.Now()
			received.Add(1)
			lastArrival.Store(now.UnixNano())
			d := now.Sub(time.Unix(0, int64(sec*1e9)))
			mu.Lock()
			if len(lat) < cap(lat) {
				lat = append(lat, d)
			}
			mu.Unlock()
		}})
	if err != nil {
		return res, err
	}
	defer sub.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sub.Connect(cctx); err != nil {
		return res, fmt.Errorf("loadgen: subscriber: %w", err)
	}
	if _, err := sub.Subscribe(cctx, nil, mqtt.Subscription{Filter: []byte("edge/" + cfg.Gateway + "/#")}); err != nil {
		return res, err
	}

	var uploads, refused, readings atomic.Uint64
	start := time.Now()
	sctx, scancel := context.WithTimeout(ctx, cfg.Duration)
	defer scancel()
	var wg sync.WaitGroup
	errc := make(chan error, cfg.Senders)
	for s := 0; s < cfg.Senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sender(sctx, cfg, s, &uploads, &refused, &readings); err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return res, err
	default:
	}
	res.Uploads, res.Refused, res.ReadingsSent = uploads.Load(), refused.Load(), readings.Load()
	// Wait for the arrivals to catch up (or stop growing).
	deadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(deadline) && received.Load() < res.ReadingsSent {
		time.Sleep(10 * time.Millisecond)
	}
	res.Received = received.Load()
	end := time.Unix(0, lastArrival.Load())
	res.Elapsed = end.Sub(start)
	if res.Elapsed <= 0 {
		res.Elapsed = time.Since(start)
	}
	mu.Lock()
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		res.P50, res.P99, res.Max = lat[n/2], lat[n*99/100], lat[n-1]
	}
	mu.Unlock()
	if res.Received == 0 {
		return res, errors.New("loadgen: nothing arrived upstream")
	}
	return res, nil
}

// sender keeps cfg.Window CON POSTs outstanding on one UDP socket.
func sender(ctx context.Context, cfg Config, id int, uploads, refused, readings *atomic.Uint64) error {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(cfg.Target))
	if err != nil {
		return err
	}
	defer conn.Close()
	path := "r"
	dev := "load-" + strconv.Itoa(id)
	var mid uint16 = uint16(id * 4099)
	outstanding := map[uint16]time.Time{}
	buf := make([]byte, 0, 1500)
	body := make([]byte, 0, 1024)
	rx := make([]byte, 1500)
	var seq int
	start := time.Now()
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(int64(time.Second) * int64(cfg.Senders) / int64(cfg.Rate))
	}
	send := func() error {
		mid++
		seq++
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		body = append(body[:0], '[')
		now := float64(time.Now().UnixNano()) / 1e9
		for r := 0; r < cfg.Readings; r++ {
			if r > 0 {
				body = append(body, ',')
			}
			body = append(body, `{"n":"x","v":`...)
			body = strconv.AppendInt(body, int64(seq), 10)
			body = append(body, `,"t":`...)
			body = strconv.AppendFloat(body, now, 'f', 6, 64)
			body = append(body, '}')
		}
		body = append(body, ']')
		var tok [2]byte
		tok[0], tok[1] = byte(mid>>8), byte(mid)
		tk, _ := coap.TokenFrom(tok[:])
		m := coap.Message{Type: coap.Confirmable, Code: coap.POST, MessageID: coap.MessageID(mid), Token: tk, Payload: body}
		m.SetPath("/" + path + "/" + dev)
		m.SetContentFormat(coap.AppSenMLJSON)
		var err error
		buf, err = m.AppendBinary(buf[:0])
		if err != nil {
			return err
		}
		outstanding[mid] = time.Now()
		_, err = conn.Write(buf)
		return err
	}
	for i := 0; i < cfg.Window; i++ {
		if err := send(); err != nil {
			return err
		}
	}
	var msg coap.Message
	for {
		if ctx.Err() != nil {
			return nil // the last window is neither acknowledged nor refused
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(rx)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Lost or refused: count them and refill the window.
				refused.Add(uint64(len(outstanding)))
				clear(outstanding)
				for i := 0; i < cfg.Window && ctx.Err() == nil; i++ {
					if err := send(); err != nil {
						return err
					}
				}
				continue
			}
			return err
		}
		if _, err := msg.Decode(rx[:n]); err != nil {
			continue
		}
		if _, ok := outstanding[uint16(msg.MessageID)]; !ok {
			continue
		}
		delete(outstanding, uint16(msg.MessageID))
		if msg.Code == coap.Changed {
			uploads.Add(1)
			readings.Add(uint64(cfg.Readings))
		} else {
			refused.Add(1)
		}
		if ctx.Err() == nil {
			if err := send(); err != nil {
				return err
			}
		}
	}
}
