package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgekit-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// start runs the example with args until the test ends.
func start(t *testing.T, args ...string) []net.Addr {
	t.Helper()
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, io.Discard, func(a []net.Addr) { ready <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("broker not ready")
	}
	return nil
}

// roundTrip subscribes and publishes on one connection and checks the echo.
func roundTrip(t *testing.T, nc net.Conn, retained bool) {
	t.Helper()
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fr := mqtt.NewFramer(nc, nc, mqtt.FramerConfig{})
	cp := &mqtt.Connect{Version: mqtt.V5, ClientID: []byte("ex"), CleanStart: true}
	if err := fr.WritePacket(cp); err != nil {
		t.Fatal(err)
	}
	if p, err := fr.ReadPacket(); err != nil || p.(*mqtt.Connack).Code != 0 {
		t.Fatal(p, err)
	}
	fr.WritePacket(&mqtt.Subscribe{Version: mqtt.V5, ID: 1, Filters: []mqtt.Subscription{{Filter: []byte("ex/#"), QoS: 1}}})
	if _, err := fr.ReadPacket(); err != nil {
		t.Fatal(err)
	}
	if retained {
		p, err := fr.ReadPacket()
		if err != nil || string(p.(*mqtt.Publish).Payload) != "kept" {
			t.Fatalf("retained message: %v %v", p, err)
		}
		return
	}
	fr.WritePacket(&mqtt.Publish{Version: mqtt.V5, QoS: 1, ID: 1, Retain: true, Topic: []byte("ex/1"), Payload: []byte("kept")})
	for range 2 { // PUBACK and the message, in either order
		p, err := fr.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		if pub, ok := p.(*mqtt.Publish); ok && string(pub.Payload) != "kept" {
			t.Fatal(pub)
		}
	}
}

func TestExample(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	sock := filepath.Join(dir, "mqtt.sock")
	data := filepath.Join(dir, "data")
	addrs := start(t, "-listen", "127.0.0.1:0", "-unix", sock, "-tls-listen", "127.0.0.1:0",
		"-tls-cert", cert, "-tls-key", key, "-data", data, "-max-connections", "100", "-sys-interval", "-1s")
	if len(addrs) != 3 {
		t.Fatal(addrs)
	}
	nc, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc, false)
	uc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, uc, true)
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	tc, err := tls.Dial("tcp", addrs[2].String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, tc, true)

	// With mosquitto's clients, when installed.
	if _, err := exec.LookPath("mosquitto_sub"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		host, port, _ := net.SplitHostPort(addrs[0].String())
		out, err := exec.CommandContext(ctx, "mosquitto_sub", "-h", host, "-p", port, "-t", "ex/#", "-C", "1", "-W", "5").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "kept" {
			t.Fatalf("mosquitto_sub: %v %s", err, out)
		}
	} else if testutil.PeersRequired() {
		t.Fatal("mosquitto_sub missing")
	}
}

// TestExamplePersistence: a retained message survives a restart of the
// example with the same -data directory.
func TestExamplePersistence(t *testing.T) {
	data := t.TempDir()
	cfg, _ := parseFlags([]string{"-listen", "127.0.0.1:0", "-data", data, "-sys-interval", "-1s"}, io.Discard)
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan []net.Addr, 1)
		done := make(chan error, 1)
		go func() { done <- run(ctx, cfg, io.Discard, func(a []net.Addr) { ready <- a }) }()
		addrs := <-ready
		nc, err := net.Dial("tcp", addrs[0].String())
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, nc, i == 1)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestExampleBridge bridges the example to a mosquitto upstream.
func TestExampleBridge(t *testing.T) {
	up := testutil.StartMosquitto(t, testutil.MosquittoConfig{})
	// A subscriber on the upstream.
	uc, err := net.Dial("tcp", up.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.SetDeadline(time.Now().Add(20 * time.Second))
	ufr := mqtt.NewFramer(uc, uc, mqtt.FramerConfig{})
	ufr.WritePacket(&mqtt.Connect{Version: mqtt.V5, ClientID: []byte("upsub"), CleanStart: true})
	ufr.ReadPacket()
	ufr.WritePacket(&mqtt.Subscribe{Version: mqtt.V5, ID: 1, Filters: []mqtt.Subscription{{Filter: []byte("gw/#"), QoS: 1}}})
	ufr.ReadPacket()

	addrs := start(t, "-listen", "127.0.0.1:0", "-sys-interval", "-1s", "-bridge-addr", up.Addr(),
		"-bridge-store", t.TempDir(), "-bridge-topic", "ex/# out 1 - gw/")
	time.Sleep(300 * time.Millisecond)
	nc, err := net.Dial("tcp", addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, nc, false) // publishes ex/1 "kept"
	p, err := ufr.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := p.(*mqtt.Publish); !ok || string(pub.Topic) != "gw/ex/1" || string(pub.Payload) != "kept" {
		t.Fatalf("upstream got %+v", p)
	}
}

func TestFlags(t *testing.T) {
	for _, bad := range []string{"x in", "x sideways 1", "x in 3", "x in 1 a b c"} {
		if _, err := parseMapping(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	m, err := parseMapping("s/# both 2 - up/")
	if err != nil || m.Filter != "s/#" || m.QoS != 2 || m.LocalPrefix != "" || m.RemotePrefix != "up/" {
		t.Fatal(m, err)
	}
	if _, err := parseFlags([]string{"-bridge-addr", "x:1"}, io.Discard); err == nil {
		t.Fatal("-bridge-addr without mappings accepted")
	}
	if _, err := parseFlags([]string{"-tls-cert", "x"}, io.Discard); err == nil {
		t.Fatal("-tls-cert without -tls-key accepted")
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Fatal("extra argument accepted")
	}
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil || cfg.listen != "127.0.0.1:1883" {
		t.Fatal(cfg, err)
	}
}
