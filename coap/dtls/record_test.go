package dtls

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	piondtls "github.com/pion/dtls/v3"
)

// capturePC is a net.PacketConn that records what Pion writes and never
// delivers anything.
type capturePC struct {
	mu     sync.Mutex
	writes [][]byte
	closed chan struct{}
	once   sync.Once
	rdl    deadline
}

func (p *capturePC) ReadFrom([]byte) (int, net.Addr, error) {
	select {
	case <-p.closed:
		return 0, nil, net.ErrClosed
	case <-p.rdl.wait():
		return 0, nil, os.ErrDeadlineExceeded
	}
}
func (p *capturePC) WriteTo(b []byte, _ net.Addr) (int, error) {
	p.mu.Lock()
	p.writes = append(p.writes, append([]byte(nil), b...))
	p.mu.Unlock()
	return len(b), nil
}
func (p *capturePC) Close() error                      { p.once.Do(func() { close(p.closed) }); return nil }
func (p *capturePC) LocalAddr() net.Addr               { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (p *capturePC) SetDeadline(t time.Time) error     { p.rdl.set(t); return nil }
func (p *capturePC) SetReadDeadline(t time.Time) error { p.rdl.set(t); return nil }
func (p *capturePC) SetWriteDeadline(time.Time) error  { return nil }

// captureClientHello returns the first datagram a Pion client sends: a
// ClientHello.
func captureClientHello(t testing.TB) []byte {
	t.Helper()
	pc := &capturePC{closed: make(chan struct{})}
	r, err := pskClientConfig().resolve(true)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := piondtls.ClientWithOptions(pc, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2}, r.clientOptions(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = conn.HandshakeContext(ctx)
	conn.Close()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.writes) == 0 {
		t.Fatal("no ClientHello captured")
	}
	return pc.writes[0]
}

func TestRecordParsing(t *testing.T) {
	hello := captureClientHello(t)
	if !isClientHello(hello) {
		t.Fatalf("a Pion ClientHello is not recognised: % x", hello[:20])
	}
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short":       hello[:13],
		"appdata":     append([]byte{23}, hello[1:]...),
		"epoch1":      append(append([]byte{}, hello[:3]...), append([]byte{0, 1}, hello[5:]...)...),
		"serverhello": append(append([]byte{}, hello[:13]...), append([]byte{2}, hello[14:]...)...),
		"truncated":   hello[:len(hello)-1],
		"tls":         append([]byte{22, 3, 3}, hello[3:]...),
	} {
		if isClientHello(b) {
			t.Errorf("%s: recognised as ClientHello", name)
		}
	}
	// A tls12_cid record: type 25, version, epoch 1, seq, CID, length, body.
	rec := []byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0xaa, 0xbb, 0xcc, 0xdd, 0, 3, 1, 2, 3}
	cid, ok := recordCID(rec, 4)
	if !ok || string(cid) != "\xaa\xbb\xcc\xdd" {
		t.Fatalf("recordCID = % x, %v", cid, ok)
	}
	if _, ok := recordCID(rec[:len(rec)-1], 4); ok {
		t.Error("truncated CID record accepted")
	}
	if _, ok := recordCID(rec, 0); ok {
		t.Error("CID length 0 accepted")
	}
	if _, ok := recordCID(hello, 4); ok {
		t.Error("a handshake record has no CID")
	}
}

func FuzzRecord(f *testing.F) {
	f.Add([]byte{25, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0xaa, 0xbb, 0xcc, 0xdd, 0, 3, 1, 2, 3}, 4)
	f.Add([]byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, 0)
	f.Add([]byte{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0}, 8)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n %= 300
		if isClientHello(b) {
			if len(b) < 14 || b[0] != 22 || b[13] != 1 {
				t.Fatalf("accepted % x", b)
			}
		}
		if cid, ok := recordCID(b, n); ok {
			if len(cid) != n || b[0] != 25 || &cid[0] != &b[11] {
				t.Fatalf("cid % x from % x", cid, b)
			}
		}
	})
}
