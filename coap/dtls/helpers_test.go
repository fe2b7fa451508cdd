package dtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// testPKI is a CA with leaf certificates signed by it, also written as PEM
// files for libcoap.
type testPKI struct {
	caCert   *x509.Certificate
	caKey    *ecdsa.PrivateKey
	pool     *x509.CertPool
	caFile   string
	dir      string
	serialNo int64
}

func newPKI(t testing.TB, name string) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{caCert: cert, caKey: key, pool: x509.NewCertPool(), dir: t.TempDir(), serialNo: 1}
	p.pool.AddCert(cert)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", der)
	return p
}

// leaf issues a certificate for 127.0.0.1 / localhost usable by clients and
// servers, and returns it with the paths of its PEM certificate and key.
func (p *testPKI) leaf(t testing.TB, name string) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serialNo++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serialNo),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(p.dir, name+".pem")
	keyFile := filepath.Join(p.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certFile, keyFile
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The few CoAP messages the tests need, built and parsed by hand (RFC 7252
// §3) so that this package's tests do not depend on the codec.

const (
	coapCON = 0
	coapNON = 1
	coapACK = 2
	coapRST = 3

	coapGET      = 0x01
	coapPOST     = 0x02
	coapContent  = 0x45 // 2.05
	coapChanged  = 0x44 // 2.04
	coapNotFound = 0x84 // 4.04

	optUriPath = 11
)

// coapMsg is a decoded CoAP message (options other than Uri-Path skipped).
type coapMsg struct {
	typ     int
	code    byte
	mid     uint16
	token   []byte
	path    []string
	payload []byte
}

// appendOption appends one option with delta encoding (RFC 7252 §3.1).
func appendOption(b []byte, delta, num int, val []byte) []byte {
	d := num - delta
	nib := func(v int) (byte, []byte) {
		switch {
		case v < 13:
			return byte(v), nil
		case v < 269:
			return 13, []byte{byte(v - 13)}
		default:
			return 14, []byte{byte((v - 269) >> 8), byte(v - 269)}
		}
	}
	dn, dx := nib(d)
	ln, lx := nib(len(val))
	b = append(b, dn<<4|ln)
	b = append(b, dx...)
	b = append(b, lx...)
	return append(b, val...)
}

func (m *coapMsg) encode() []byte {
	b := []byte{0x40 | byte(m.typ)<<4 | byte(len(m.token)), m.code, byte(m.mid >> 8), byte(m.mid)}
	b = append(b, m.token...)
	last := 0
	for _, seg := range m.path {
		b = appendOption(b, last, optUriPath, []byte(seg))
		last = optUriPath
	}
	if len(m.payload) > 0 {
		b = append(b, 0xff)
		b = append(b, m.payload...)
	}
	return b
}

var errBadCoAP = errors.New("malformed CoAP message")

func decodeCoAP(b []byte) (coapMsg, error) {
	var m coapMsg
	if len(b) < 4 || b[0]>>6 != 1 {
		return m, errBadCoAP
	}
	tkl := int(b[0] & 15)
	if tkl > 8 || len(b) < 4+tkl {
		return m, errBadCoAP
	}
	m.typ = int(b[0] >> 4 & 3)
	m.code = b[1]
	m.mid = uint16(b[2])<<8 | uint16(b[3])
	m.token = append([]byte(nil), b[4:4+tkl]...)
	b = b[4+tkl:]
	num := 0
	ext := func(n byte) (int, bool) {
		switch n {
		case 13:
			if len(b) < 1 {
				return 0, false
			}
			v := int(b[0]) + 13
			b = b[1:]
			return v, true
		case 14:
			if len(b) < 2 {
				return 0, false
			}
			v := int(b[0])<<8 | int(b[1]) + 269
			b = b[2:]
			return v, true
		case 15:
			return 0, false
		}
		return int(n), true
	}
	for len(b) > 0 {
		if b[0] == 0xff {
			if len(b) == 1 {
				return m, errBadCoAP
			}
			m.payload = append([]byte(nil), b[1:]...)
			return m, nil
		}
		h := b[0]
		b = b[1:]
		d, ok1 := ext(h >> 4)
		l, ok2 := ext(h & 15)
		if !ok1 || !ok2 || l > len(b) {
			return m, errBadCoAP
		}
		num += d
		if num == optUriPath {
			m.path = append(m.path, string(b[:l]))
		}
		b = b[l:]
	}
	return m, nil
}

// serveCoAP answers the CoAP requests read from bc until it fails: a GET of
// /hello gets "hello <path>", a POST echoes its payload, anything else 4.04;
// a CoAP ping (empty CON) gets a RST. It returns how many requests it
// answered.
func serveCoAP(bc uring.BatchConn) (n int) {
	ms := make([]uring.Msg, 4)
	for i := range ms {
		ms[i].Buf = make([]byte, 2048)
	}
	out := make([]uring.Msg, 1)
	for {
		k, err := bc.ReadBatch(ms)
		if err != nil {
			return n
		}
		for i := 0; i < k; i++ {
			req, err := decodeCoAP(ms[i].Buf[:ms[i].N])
			if err != nil || (req.typ != coapCON && req.typ != coapNON) {
				continue
			}
			resp := coapMsg{typ: coapACK, mid: req.mid, token: req.token}
			switch {
			case req.code == 0:
				resp = coapMsg{typ: coapRST, mid: req.mid}
			case req.code == coapGET && strings.Join(req.path, "/") == "hello":
				resp.code, resp.payload = coapContent, []byte("hello "+ms[i].Addr.Addr().String())
			case req.code == coapPOST:
				resp.code, resp.payload = coapChanged, req.payload
			default:
				resp.code = coapNotFound
			}
			if req.typ == coapNON && req.code != 0 {
				resp.typ, resp.mid = coapNON, req.mid^0x8000
			}
			out[0] = uring.Msg{Buf: resp.encode(), Addr: ms[i].Addr}
			if _, err := bc.WriteBatch(out); err != nil {
				return n
			}
			n++
		}
	}
}

// startCoAP runs serveCoAP on bc in a goroutine; the returned function
// waits for it to end (after bc is closed).
func startCoAP(bc uring.BatchConn) (wait func() int) {
	var wg sync.WaitGroup
	var n int
	wg.Add(1)
	go func() {
		defer wg.Done()
		n = serveCoAP(bc)
	}()
	return func() int { wg.Wait(); return n }
}

// exchange sends req over bc to addr and waits up to d for the response
// with the same token.
func exchange(t testing.TB, bc uring.BatchConn, addr netip.AddrPort, req coapMsg, d time.Duration) coapMsg {
	t.Helper()
	ms := []uring.Msg{{Buf: req.encode(), Addr: addr}}
	if _, err := bc.WriteBatch(ms); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := bc.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	defer bc.SetReadDeadline(time.Time{})
	in := []uring.Msg{{Buf: make([]byte, 2048)}}
	for {
		if _, err := bc.ReadBatch(in); err != nil {
			t.Fatalf("read response to %v: %v", req.path, err)
		}
		resp, err := decodeCoAP(in[0].Buf[:in[0].N])
		if err != nil {
			t.Fatalf("response: %v (% x)", err, in[0].Buf[:in[0].N])
		}
		if string(resp.token) == string(req.token) {
			return resp
		}
	}
}
