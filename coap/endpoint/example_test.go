package endpoint_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
)

func Example() {
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.GET, "/temp", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("21.5")
	})
	mux.SetAttrs("/temp", endpoint.Attrs{RT: "temperature-c", Observable: true})
	srv, err := endpoint.Listen("udp4", "127.0.0.1:0", endpoint.Config{Handler: mux})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	cli, err := endpoint.Listen("udp4", "127.0.0.1:0", endpoint.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peer := netip.MustParseAddrPort(srv.LocalAddr().String())

	resp, err := cli.Get(ctx, peer, "/temp")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Code(), string(resp.Body))
	resp, _ = cli.Get(ctx, peer, "/.well-known/core")
	fmt.Println(string(resp.Body))
	// Output:
	// 2.05 21.5
	// </temp>;rt="temperature-c";obs
}
