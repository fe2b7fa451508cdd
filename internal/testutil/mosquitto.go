package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MosquittoConfig configures [StartMosquitto]. The zero value runs an
// anonymous MQTT broker with mosquitto's defaults.
type MosquittoConfig struct {
	// Extra lines appended to the generated mosquitto.conf, for example
	// "max_inflight_messages 10" or "max_packet_size 2048". A path a line
	// needs (persistence_location, say) belongs under the test's TempDir.
	Extra []string
	// Lifetime bounds the broker's run; 0 means [DefaultPeerLifetime].
	Lifetime time.Duration
}

// startAttempts is how often a starter tries fresh ports when its peer
// finds the port taken between FreePort and its own bind.
const startAttempts = 3

// StartMosquitto starts a mosquitto broker on a free 127.0.0.1 TCP port and
// returns it once it accepts connections; [Peer.Addr] is its host:port. The
// broker reads a mosquitto.conf written in a fresh tb.TempDir():
//
//	listener PORT 127.0.0.1
//	allow_anonymous true
//	...cfg.Extra
//
// It is stopped when the test ends (see [StartPeer]). Without the mosquitto
// binary the test is skipped, or failed when [PeersRequired].
func StartMosquitto(tb testing.TB, cfg MosquittoConfig) *Peer {
	tb.Helper()
	NeedPeer(tb, "mosquitto")
	dir := tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	return startOnFreePort(tb, "tcp", func(port int) PeerConfig {
		addr := LoopbackAddr(port)
		lines := []string{
			"# written by internal/testutil.StartMosquitto",
			"listener " + itoa(port) + " 127.0.0.1",
			"allow_anonymous true",
			"log_dest stderr",
			// As root, mosquitto would switch to the mosquitto user, which
			// cannot write to the test's TempDir; ignored when not root.
			"user root",
		}
		lines = append(lines, cfg.Extra...)
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
		return PeerConfig{
			Name:     "mosquitto",
			Args:     []string{"-c", conf},
			Dir:      dir,
			Addr:     addr,
			Ready:    TCPReady(addr),
			Lifetime: cfg.Lifetime,
		}
	})
}

// startOnFreePort starts the peer that config describes for a free
// loopback port of network, trying again on a fresh port, up to
// startAttempts times, when the peer reports that its port was taken
// (another process can grab a free port before the peer binds it).
func startOnFreePort(tb testing.TB, network string, config func(port int) PeerConfig) *Peer {
	tb.Helper()
	var err error
	for range startAttempts {
		var p *Peer
		p, err = startPeer(tb, config(FreePort(tb, network)))
		if err == nil {
			return p
		}
		if !portTaken(err) {
			break
		}
	}
	tb.Fatal(err)
	return nil
}

// portTaken reports whether a start failed because the peer could not bind
// its port.
func portTaken(err error) bool {
	return errors.Is(err, errExited) && strings.Contains(err.Error(), "Address already in use")
}
