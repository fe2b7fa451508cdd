package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns their paths and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edgekit test broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{"certfile " + certFile, "keyfile " + keyFile}})
	ctx := ctxT(t)
	col := newCollector()
	c := newClient(t, client.Config{Addr: broker.Addr(), Version: mqtt.V5, CleanStart: true,
		TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	connect(t, c)
	if _, err := c.Subscribe(ctx, col.handle, mqtt.Subscription{Filter: []byte("tls/#"), QoS: 2}); err != nil {
		t.Fatal(err)
	}
	for q := uint8(0); q <= 2; q++ {
		if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("tls/x"), QoS: q, Payload: []byte{'0' + q}}); err != nil {
			t.Fatal(err)
		}
	}
	msgs := col.wait(t, 3, 5*time.Second)
	for i, m := range msgs {
		if m.Payload[0] != byte('0'+i) {
			t.Fatalf("message %d: %q", i, m.Payload)
		}
	}
	// A client that does not trust the certificate fails the handshake.
	bad, err := client.New(client.Config{Addr: broker.Addr(), TLS: &tls.Config{ServerName: "127.0.0.1"}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Connect(ctx); err == nil {
		t.Fatal("TLS connect without trusting the broker succeeded")
	}
}
