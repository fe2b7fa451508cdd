package testutil

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// CoAPServerConfig configures [StartCoAPServer]. The zero value runs
// libcoap's coap-server-notls with its built-in resources.
type CoAPServerConfig struct {
	// Binary is the libcoap server to run: "coap-server-notls" (the
	// default), "coap-server-openssl" or "coap-server-gnutls". The DTLS
	// builds also listen on port+1 for coaps.
	Binary string
	// Args are appended after "-A 127.0.0.1 -p PORT", for example
	// []string{"-d", "16", "-e"} to allow PUT-created resources and echo
	// payloads, or []string{"-k", psk, "-h", hint} for DTLS-PSK.
	Args []string
	// Lifetime bounds the server's run; 0 means [DefaultPeerLifetime].
	Lifetime time.Duration
}

// StartCoAPServer starts a libcoap CoAP server on a free 127.0.0.1 UDP port
// and returns it once it answers a CoAP ping (see [CoAPReady]);
// [Peer.Addr] is its UDP host:port. It runs
//
//	coap-server-notls -A 127.0.0.1 -p PORT ...cfg.Args
//
// and is stopped when the test ends (see [StartPeer]). Without the binary
// the test is skipped, or failed when [PeersRequired].
func StartCoAPServer(tb testing.TB, cfg CoAPServerConfig) *Peer {
	tb.Helper()
	bin := cfg.Binary
	if bin == "" {
		bin = "coap-server-notls"
	}
	NeedPeer(tb, bin)
	return startOnFreePort(tb, "udp", func(port int) PeerConfig {
		addr := LoopbackAddr(port)
		return PeerConfig{
			Name:     bin,
			Args:     append([]string{"-A", "127.0.0.1", "-p", itoa(port)}, cfg.Args...),
			Addr:     addr,
			Ready:    CoAPReady(addr),
			Lifetime: cfg.Lifetime,
		}
	})
}

// CoAPReady returns a PeerConfig.Ready function that reports a CoAP server
// on the UDP address addr ready once it answers a CoAP ping — an empty
// Confirmable message, which RFC 7252 §4.3 has the server answer with a Reset
// carrying the same Message ID — within 250 ms.
func CoAPReady(addr string) func(context.Context) error {
	var mid uint16
	return func(ctx context.Context) error {
		mid++
		return coapPing(ctx, addr, mid, 250*time.Millisecond)
	}
}

// coapPing sends one CoAP ping with Message ID mid to addr and waits up to
// wait for the Reset that answers it.
func coapPing(ctx context.Context, addr string, mid uint16, wait time.Duration) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(wait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	// Ver 1, type CON (0), token length 0; code 0.00 (empty); Message ID.
	ping := []byte{0x40, 0x00, byte(mid >> 8), byte(mid)}
	if _, err := c.Write(ping); err != nil {
		return err
	}
	var buf [1500]byte
	for {
		n, err := c.Read(buf[:])
		if err != nil {
			return fmt.Errorf("coap ping %s: %w", addr, err)
		}
		// Ver 1, type RST (3), token length 0; code 0.00; same Message ID.
		if n == 4 && buf[0] == 0x70 && buf[1] == 0 && buf[2] == ping[2] && buf[3] == ping[3] {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
