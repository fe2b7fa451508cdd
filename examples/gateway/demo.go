package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
)

// demoSensors are simulated CoAP sensors: each is a CoAP endpoint (client
// and server on one socket) that POSTs SenML (JSON for even, CBOR for odd
// sensors) to the gateway every interval and serves PUT /led, so that
// commands can reach it.
type demoSensors struct {
	g       *Gateway
	target  netip.AddrPort
	sensors []*demoSensor
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

type demoSensor struct {
	name string
	ep   *endpoint.Endpoint
	cbor bool
	temp float64
	hum  float64
	led  atomic.Bool
}

func newDemoSensors(g *Gateway, n int) (*demoSensors, error) {
	ds := &demoSensors{g: g, target: g.CoAPAddr()}
	if !ds.target.IsValid() {
		return nil, fmt.Errorf("demo: CoAP sensors need coap.listen")
	}
	if ds.target.Addr().IsUnspecified() {
		ds.target = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ds.target.Port())
	}
	for i := 0; i < n; i++ {
		s := &demoSensor{name: fmt.Sprintf("coap-sensor-%d", i+1), cbor: i%2 == 1, temp: 20 + float64(i)/2, hum: 40 + float64(i)}
		mux := endpoint.NewMux()
		mux.HandleFunc(coap.PUT, "/led", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
			v := strings.ToLower(strings.TrimSpace(string(r.Body)))
			switch v {
			case "on", "1", "true":
				s.led.Store(true)
			case "off", "0", "false":
				s.led.Store(false)
			default:
				w.SetCode(coap.BadRequest)
				_, _ = w.WriteString("want on or off")
				return
			}
			w.SetCode(coap.Changed)
			_, _ = w.WriteString(onOff(s.led.Load()))
		})
		ep, err := endpoint.Listen("udp", "127.0.0.1:0", endpoint.Config{Handler: mux, Workers: 1})
		if err != nil {
			ds.close()
			return nil, fmt.Errorf("demo sensor: %w", err)
		}
		s.ep = ep
		ds.sensors = append(ds.sensors, s)
	}
	return ds, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (ds *demoSensors) start(ctx context.Context) {
	ctx, ds.cancel = context.WithCancel(ctx)
	interval := ds.g.cfg.Demo.Interval.D()
	for i, s := range ds.sensors {
		ds.wg.Add(1)
		go func() {
			defer ds.wg.Done()
			// Spread the sensors over the interval.
			t := time.NewTimer(time.Duration(i+1) * interval / time.Duration(len(ds.sensors)+1))
			defer t.Stop()
			var buf []byte
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				t.Reset(interval)
				s.temp += (mrand.Float64() - 0.5) * 0.4
				s.hum += (mrand.Float64() - 0.5)
				now := float64(time.Now().UnixNano()) / 1e9
				recs := []reading{{Quantity: "temperature", Unit: "Cel", Num: round2(s.temp), Time: now},
					{Quantity: "humidity", Unit: "%RH", Num: round2(s.hum), Time: now}}
				ct := coap.AppSenMLJSON
				if s.cbor {
					ct = coap.AppSenMLCBOR
					buf = appendSenMLCBOR(buf[:0], "", recs)
				} else {
					buf = fmt.Appendf(buf[:0], `[{"n":"temperature","u":"Cel","v":%g,"t":%f},{"n":"humidity","u":"%%RH","v":%g},{"n":"led","vb":%t}]`,
						recs[0].Num, now, recs[1].Num, s.led.Load())
				}
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := s.ep.Post(pctx, ds.target, "/r/"+s.name, ct, buf)
				cancel()
				if err != nil && ctx.Err() == nil {
					ds.g.log.Warn("demo sensor post", "sensor", s.name, "err", err)
				}
			}
		}()
	}
}

func round2(v float64) float64 { return float64(int64(v*100)) / 100 }

func (ds *demoSensors) close() {
	if ds.cancel != nil {
		ds.cancel()
	}
	ds.wg.Wait()
	for _, s := range ds.sensors {
		if s.ep != nil {
			_ = s.ep.Close()
		}
	}
}
