// Command coap-client is a small CoAP client on edgekit's coap/endpoint:
// GET, PUT, POST, DELETE and observe over coap:// (UDP) and coaps:// (DTLS
// with a pre-shared key). Large payloads go block-wise (RFC 7959) both ways
// without any flag; -b picks the block size.
//
// Usage:
//
//	coap-client [flags] get|put|post|delete|observe URI
//
//	coap-client get coap://127.0.0.1/.well-known/core
//	coap-client -d hello post coap://127.0.0.1/echo
//	coap-client -f big.bin -b 256 put coap://127.0.0.1/upload
//	coap-client -count 3 observe coap://127.0.0.1/obs
//	coap-client -psk-identity edgekit -psk-key secret get coaps://127.0.0.1/time
//
// The response body goes to standard output (or -o FILE); the response code
// and, for observe, each notification's sequence go to standard error. The
// exit status is 1 on an error or a response code other than 2.xx.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/dtls"
	"github.com/edgekit/edgekit/coap/endpoint"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "coap-client:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	data        string
	file        string
	out         string
	format      int
	non         bool
	blockSize   int
	timeout     time.Duration
	count       int
	duration    time.Duration
	pskIdentity string
	pskKey      string
}

// errStatus reports a response code that is not a success.
type errStatus struct{ code coap.Code }

func (e errStatus) Error() string { return "response " + e.code.String() }

// run executes one command line (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("coap-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "d", "", "request payload")
	fs.StringVar(&o.file, "f", "", "read the request payload from `file` (- for stdin)")
	fs.StringVar(&o.out, "o", "", "write the response body to `file` instead of stdout")
	fs.IntVar(&o.format, "ct", -1, "Content-Format number of the payload (0 text/plain, 50 json, 60 cbor, ...)")
	fs.BoolVar(&o.non, "n", false, "send a Non-confirmable request")
	fs.IntVar(&o.blockSize, "b", 0, "block size for block-wise transfers (16..1024; default 1024)")
	fs.DurationVar(&o.timeout, "t", 30*time.Second, "timeout of a request")
	fs.IntVar(&o.count, "count", 0, "observe: stop after this many notifications (0: until -s or interrupted)")
	fs.DurationVar(&o.duration, "s", 0, "observe: stop after this long")
	fs.StringVar(&o.pskIdentity, "psk-identity", "", "PSK identity for coaps://")
	fs.StringVar(&o.pskKey, "psk-key", "", "pre-shared key for coaps://")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: coap-client [flags] get|put|post|delete|observe URI")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("want a method and a URI")
	}
	method, rawURI := fs.Arg(0), fs.Arg(1)
	var code coap.Code
	switch method {
	case "get", "observe":
		code = coap.GET
	case "put":
		code = coap.PUT
	case "post":
		code = coap.POST
	case "delete":
		code = coap.DELETE
	default:
		return fmt.Errorf("unknown method %q", method)
	}

	u, err := url.Parse(rawURI)
	if err != nil {
		return err
	}
	payload := []byte(o.data)
	if o.file != "" {
		if o.file == "-" {
			payload, err = io.ReadAll(os.Stdin)
		} else {
			payload, err = os.ReadFile(o.file)
		}
		if err != nil {
			return err
		}
	}

	ep, peer, err := connect(ctx, u, o)
	if err != nil {
		return err
	}
	defer ep.Close()

	req := &coap.Message{Code: code}
	if o.non {
		req.Type = coap.NonConfirmable
	}
	req.SetPath(u.Path)
	if u.RawQuery != "" {
		req.SetQuery(u.RawQuery)
	}
	if len(payload) > 0 {
		req.Payload = payload
		if o.format < 0 {
			o.format = int(coap.TextPlain)
		}
	}
	if o.format >= 0 {
		req.SetContentFormat(coap.MediaType(o.format))
	}

	out := stdout
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}

	if method == "observe" {
		return observe(ctx, ep, peer, req, o, out, stderr)
	}
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := ep.Do(rctx, peer, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, resp.Code())
	if _, err := out.Write(resp.Body); err != nil {
		return err
	}
	if resp.Code().Class() != 2 {
		return errStatus{resp.Code()}
	}
	return nil
}

// connect opens an endpoint for the URI's scheme and resolves its peer.
func connect(ctx context.Context, u *url.URL, o options) (*endpoint.Endpoint, netip.AddrPort, error) {
	port := u.Port()
	switch u.Scheme {
	case "coap":
		if port == "" {
			port = "5683"
		}
	case "coaps":
		if port == "" {
			port = "5684"
		}
	default:
		return nil, netip.AddrPort{}, fmt.Errorf("scheme %q: want coap or coaps", u.Scheme)
	}
	ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	// An IPv4 peer gets an IPv4 socket: a dual-stack one would report its
	// responses as coming from ::ffff:a.b.c.d, another address.
	peer := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
	cfg := endpoint.Config{BlockSize: o.blockSize}
	if u.Scheme == "coap" {
		network, local := "udp4", "0.0.0.0:0"
		if peer.Addr().Is6() {
			network, local = "udp6", "[::]:0"
		}
		ep, err := endpoint.Listen(network, local, cfg)
		return ep, peer, err
	}
	if o.pskKey == "" || o.pskIdentity == "" {
		return nil, peer, errors.New("coaps:// needs -psk-identity and -psk-key")
	}
	hctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	conn, err := dtls.Dial(hctx, "udp", peer.String(), dtls.Config{
		PSK:         dtls.StaticPSK(nil, []byte(o.pskKey)),
		PSKIdentity: []byte(o.pskIdentity),
	})
	if err != nil {
		return nil, peer, err
	}
	ep, err := endpoint.New(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, peer, err
	}
	return ep, conn.RemoteAddr(), nil
}

// observe registers with the resource and writes every notification's body
// (one per line) until -count, -s, an error or ctx ends it, then
// deregisters.
func observe(ctx context.Context, ep *endpoint.Endpoint, peer netip.AddrPort, req *coap.Message, o options, out, stderr io.Writer) error {
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	got := make(chan struct{}, 1)
	seen := 0
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	obs, err := ep.Observe(rctx, peer, req, func(r *endpoint.Response) {
		// Runs on an endpoint worker, one notification at a time.
		seq, _ := r.Msg.Observe()
		fmt.Fprintln(stderr, r.Code(), "observe="+strconv.FormatUint(uint64(seq), 10))
		out.Write(r.Body)
		fmt.Fprintln(out)
		seen++
		if o.count > 0 && seen >= o.count {
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	select {
	case <-got:
	case <-ctx.Done():
	case <-obs.Done():
		return obs.Err()
	}
	cctx, ccancel := context.WithTimeout(context.Background(), o.timeout)
	defer ccancel()
	return obs.Cancel(cctx)
}
