package main

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
)

// TestDTLSIngest uploads a reading over CoAP/DTLS with a pre-shared key
// (our DTLS client) and checks that a wrong key is refused.
func TestDTLSIngest(t *testing.T) {
	port := freePort(t, "udp")
	g, _ := startGateway(t, fmt.Sprintf(`
gateway = "sec"
[coap]
listen = "127.0.0.1:0"
[coap.dtls]
listen = "127.0.0.1:%d"
[coap.dtls.psk]
sensor-9 = "736563726574"
[mqtt]
listen = "127.0.0.1:0"
`, port))
	col := newCollector(t, g.MQTTAddr(), "edge/sec/#")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	c, err := dtls.Dial(ctx, "udp", addr.String(), dtls.Config{PSK: dtls.StaticPSK(nil, []byte("secret")), PSKIdentity: []byte("sensor-9")})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := endpoint.New(c, endpoint.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	resp, err := ep.Post(ctx, c.RemoteAddr(), "/r/secure-1", coap.AppSenMLJSON, []byte(`[{"n":"temperature","u":"Cel","v":4.5}]`))
	if err != nil || resp.Code() != coap.Changed {
		t.Fatalf("POST over DTLS: %v %v", resp, err)
	}
	waitFor(t, 10*time.Second, "reading over DTLS", func() bool { return col.has("edge/sec/secure-1/temperature") })
	for _, d := range g.shadow.views() {
		if d.Name == "secure-1" && d.Source != "coaps" {
			t.Fatalf("source %q", d.Source)
		}
	}
	bctx, bcancel := context.WithTimeout(ctx, 2*time.Second)
	defer bcancel()
	if bad, err := dtls.Dial(bctx, "udp", addr.String(), dtls.Config{PSK: dtls.StaticPSK(nil, []byte("wrong")), PSKIdentity: []byte("sensor-9")}); err == nil {
		bad.Close()
		t.Fatal("handshake with a wrong key succeeded")
	}
}
