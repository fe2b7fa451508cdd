package main

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/coap/endpoint"
)

// ObserveConfig is one device resource the gateway observes (RFC 7641):
// every notification becomes readings of Device, like an upload.
type ObserveConfig struct {
	Device string `toml:"device"`
	// URI is coap://ip:port/path of the observable resource.
	URI string `toml:"uri"`
	// Quantity names a text/plain value (default: the last path segment).
	Quantity string `toml:"quantity"`
}

// parseObserveURI splits a coap:// URI with a literal address.
func parseObserveURI(s string) (netip.AddrPort, string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return netip.AddrPort{}, "", err
	}
	if u.Scheme != "coap" {
		return netip.AddrPort{}, "", errors.New("scheme must be coap")
	}
	port := uint64(5683)
	if p := u.Port(); p != "" {
		if port, err = strconv.ParseUint(p, 10, 16); err != nil {
			return netip.AddrPort{}, "", errors.New("bad port")
		}
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return netip.AddrPort{}, "", errors.New("host must be an IP address")
	}
	ap := netip.AddrPortFrom(a, uint16(port))
	if u.Path == "" || u.Path == "/" {
		return netip.AddrPort{}, "", errors.New("a resource path is needed")
	}
	return ap, u.Path, nil
}

// observe keeps one observation alive until ctx ends, registering again
// after a failure (every 5 s at most).
func (g *Gateway) observe(ctx context.Context, oc ObserveConfig) {
	defer g.wg.Done()
	peer, path, _ := parseObserveURI(oc.URI) // validated with the config
	q := oc.Quantity
	if q == "" {
		q = sanitizeLevel(path[lastSlash(path)+1:])
	}
	key := oc.Device + "/" + q
	for ctx.Err() == nil {
		req := &coap.Message{Code: coap.GET}
		req.SetPath(path)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		obs, err := g.cmdEP.Observe(rctx, peer, req, func(r *endpoint.Response) {
			if r.Code() != coap.Content || len(r.Body) == 0 {
				return
			}
			format := fmtPlain
			if cf, ok := r.Msg.Uint(coap.ContentFormat); ok {
				switch coap.MediaType(cf) {
				case coap.AppSenMLJSON, coap.AppJSON:
					format = fmtSenMLJSON
				case coap.AppSenMLCBOR, coap.AppCBOR:
					format = fmtSenMLCBOR
				}
			}
			name := key
			if format != fmtPlain {
				name = oc.Device
			}
			g.pushIngestFrom(name, r.Body, format, srcCoAP, peer, time.Now())
		})
		cancel()
		if err != nil {
			g.log.Warn("observe", "device", oc.Device, "uri", oc.URI, "err", err)
		} else {
			g.log.Info("observing", "device", oc.Device, "uri", oc.URI)
			select {
			case <-obs.Done():
				g.log.Warn("observation ended", "device", oc.Device, "err", obs.Err())
			case <-ctx.Done():
				cctx, c2 := context.WithTimeout(context.Background(), 2*time.Second)
				_ = obs.Cancel(cctx)
				c2()
				return
			}
		}
		t := time.NewTimer(5 * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}
