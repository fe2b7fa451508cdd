// Command coap-server is a small CoAP server on edgekit's coap/endpoint,
// over UDP and, with a pre-shared key, over DTLS (coap/dtls). It serves
//
//	/.well-known/core  the resource list in CoRE Link Format (RFC 6690)
//	/echo              POST echoes the payload (of any size: Block1 in, Block2 out)
//	/large             GET returns 4096 bytes, which need Block2 (RFC 7959)
//	/obs               GET, observable (RFC 7641): a counter that changes every second
//	/time              GET returns the current time (RFC 3339)
//
// Usage:
//
//	coap-server [-udp 127.0.0.1:5683] [-dtls 127.0.0.1:5684 -psk-identity ID -psk-key KEY]
//
// Try it with libcoap's client:
//
//	coap-client-notls -m get coap://127.0.0.1/.well-known/core
//	coap-client-openssl -k KEY -u ID -m get coaps://127.0.0.1/time
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
)

// config is what the command line sets.
type config struct {
	udpAddr     string // "" disables plain CoAP
	dtlsAddr    string // "" disables CoAP over DTLS
	pskIdentity string
	pskKey      string
	verbose     bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.udpAddr, "udp", "127.0.0.1:5683", "UDP address for coap:// (empty: off)")
	flag.StringVar(&cfg.dtlsAddr, "dtls", "", "UDP address for coaps:// with a pre-shared key (empty: off)")
	flag.StringVar(&cfg.pskIdentity, "psk-identity", "edgekit", "PSK identity clients must use over DTLS")
	flag.StringVar(&cfg.pskKey, "psk-key", "", "pre-shared key for DTLS")
	flag.BoolVar(&cfg.verbose, "v", false, "log debug messages")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg, os.Stderr, func(udp, dtls net.Addr) {
		if udp != nil {
			fmt.Fprintln(os.Stderr, "coap  on", udp)
		}
		if dtls != nil {
			fmt.Fprintln(os.Stderr, "coaps on", dtls)
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "coap-server:", err)
		os.Exit(1)
	}
}

// largeSize is the size of /large: four blocks of 1024 bytes.
const largeSize = 4096

// largeBody returns the body of /large: numbered lines of text.
func largeBody() []byte {
	b := make([]byte, 0, largeSize)
	for i := 0; len(b) < largeSize; i++ {
		line := fmt.Sprintf("%04d edgekit /large, a resource that needs block-wise transfer\n", i)
		b = append(b, line...)
	}
	return b[:largeSize]
}

// resources builds the mux; obs is the observable counter.
func resources(obs *atomic.Uint64, now func() time.Time) *endpoint.Mux {
	mux := endpoint.NewMux()
	mux.HandleFunc(coap.POST, "/echo", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
		if cf, ok := r.Msg.ContentFormat(); ok {
			w.SetContentFormat(cf)
		}
		w.SetCode(coap.Changed)
		w.Write(r.Body)
	})
	mux.SetAttrs("/echo", endpoint.Attrs{Title: "echoes POSTed payloads", RT: "edgekit.echo"})

	large := largeBody()
	mux.HandleFunc(coap.GET, "/large", func(w *endpoint.ResponseWriter, _ *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.Write(large)
	})
	mux.SetAttrs("/large", endpoint.Attrs{Title: "4096 bytes", CT: []coap.MediaType{coap.TextPlain}, Size: largeSize})

	mux.HandleFunc(coap.GET, "/obs", func(w *endpoint.ResponseWriter, _ *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString(strconv.FormatUint(obs.Load(), 10))
	})
	mux.SetAttrs("/obs", endpoint.Attrs{Title: "counter, changes every second", Observable: true,
		CT: []coap.MediaType{coap.TextPlain}, RT: "edgekit.counter"})

	mux.HandleFunc(coap.GET, "/time", func(w *endpoint.ResponseWriter, _ *endpoint.Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString(now().UTC().Format(time.RFC3339))
	})
	mux.SetAttrs("/time", endpoint.Attrs{Title: "current time", CT: []coap.MediaType{coap.TextPlain}})
	return mux
}

// run serves until ctx is done. ready, if not nil, is called with the
// bound addresses (nil for a disabled one) once both listen.
func run(ctx context.Context, cfg config, logOut io.Writer, ready func(udp, dtls net.Addr)) error {
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	if cfg.udpAddr == "" && cfg.dtlsAddr == "" {
		return errors.New("nothing to serve: both -udp and -dtls are empty")
	}
	if cfg.dtlsAddr != "" && cfg.pskKey == "" {
		return errors.New("-dtls needs -psk-key")
	}

	var obs atomic.Uint64
	mux := resources(&obs, time.Now)
	epCfg := endpoint.Config{Handler: mux, Logger: log}

	var eps []*endpoint.Endpoint
	defer func() {
		for _, ep := range eps {
			ep.Close()
		}
	}()
	var udpAddr, dtlsAddr net.Addr
	if cfg.udpAddr != "" {
		ep, err := endpoint.Listen("udp", cfg.udpAddr, epCfg)
		if err != nil {
			return err
		}
		eps = append(eps, ep)
		udpAddr = ep.LocalAddr()
	}
	if cfg.dtlsAddr != "" {
		srv, err := dtls.Listen("udp", cfg.dtlsAddr, dtls.Config{
			PSK:    dtls.StaticPSK([]byte(cfg.pskIdentity), []byte(cfg.pskKey)),
			Logger: log,
		})
		if err != nil {
			return err
		}
		ep, err := endpoint.New(srv, epCfg)
		if err != nil {
			srv.Close()
			return err
		}
		eps = append(eps, ep)
		dtlsAddr = srv.LocalAddr()
	}
	if ready != nil {
		ready(udpAddr, dtlsAddr)
	}

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			obs.Add(1)
			for _, ep := range eps {
				ep.Notify("/obs")
			}
		}
	}
}
