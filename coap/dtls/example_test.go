package dtls_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
)

// A CoAP server and client over DTLS with a pre-shared key: the endpoint
// runs on a dtls.Server or dtls.Client exactly as on a UDP socket.
func Example() {
	key := []byte("0123456789abcdef")
	srv, err := dtls.Listen("udp", "127.0.0.1:0", dtls.Config{
		PSK: dtls.PSKTable(map[string][]byte{"sensor-1": key}),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.GET, "/temp", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("21.5")
	})
	server, err := endpoint.New(srv, endpoint.Config{Handler: mux})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := dtls.Dial(ctx, "udp", srv.LocalAddr().(*net.UDPAddr).String(), dtls.Config{
		PSK:         dtls.StaticPSK(nil, key),
		PSKIdentity: []byte("sensor-1"),
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := endpoint.New(conn, endpoint.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	resp, err := client.Get(ctx, conn.RemoteAddr(), "/temp")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Code(), string(resp.Body), conn.CipherSuite())
	// Output: 2.05 21.5 TLS_PSK_WITH_AES_128_CCM_8
}
