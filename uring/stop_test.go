package uring_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/uring"
)

// stopConns are the ReadStoppers under test: Conn on every backend and both
// WrapPacketConn adapters (a *net.UDPConn, and a PacketConn that hides it).
var stopConns = []struct {
	name string
	open func(uc *net.UDPConn) (uring.BatchConn, error)
}{
	{"io_uring", func(uc *net.UDPConn) (uring.BatchConn, error) {
		return uring.NewConn(uc, uring.Config{Backend: uring.BackendIOURing, ReadBuffer: 4 << 20})
	}},
	{"mmsg", func(uc *net.UDPConn) (uring.BatchConn, error) {
		return uring.NewConn(uc, uring.Config{Backend: uring.BackendMmsg, ReadBuffer: 4 << 20})
	}},
	{"std", func(uc *net.UDPConn) (uring.BatchConn, error) {
		return uring.NewConn(uc, uring.Config{Backend: uring.BackendStd, ReadBuffer: 4 << 20})
	}},
	{"wrap-udp", func(uc *net.UDPConn) (uring.BatchConn, error) {
		_ = uc.SetReadBuffer(4 << 20)
		return uring.WrapPacketConn(uc), nil
	}},
	{"wrap-packetconn", func(uc *net.UDPConn) (uring.BatchConn, error) {
		_ = uc.SetReadBuffer(4 << 20)
		return uring.WrapPacketConn(opaquePC{uc}), nil
	}},
}

// opaquePC hides the *net.UDPConn, so that WrapPacketConn takes its generic
// path.
type opaquePC struct{ net.PacketConn }

// openStop opens the conn under test on a loopback socket and a second
// descriptor of the same socket, as a process inheriting it in a graceful
// restart would hold.
func openStop(t *testing.T, open func(*net.UDPConn) (uring.BatchConn, error)) (uring.BatchConn, net.PacketConn) {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := open(uc)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		uc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f, err := uc.File()
	if err != nil {
		t.Fatal(err)
	}
	succ, err := net.FilePacketConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = succ.Close() })
	if _, ok := c.(uring.ReadStopper); !ok {
		t.Fatalf("%T does not implement ReadStopper", c)
	}
	return c, succ
}

// TestStopReadingHandsOver streams numbered datagrams at a socket; its reader
// stops reading a quarter of the way through, and a second holder of the
// socket reads on. Every datagram is read exactly once, by one or the other:
// StopReading loses none that the stopped conn took from the kernel (the
// io_uring backend's multishot receive keeps taking them until its
// cancellation completes).
func TestStopReadingHandsOver(t *testing.T) {
	for _, sc := range stopConns {
		t.Run(sc.name, func(t *testing.T) {
			c, succ := openStop(t, sc.open)
			tx, err := net.DialUDP("udp4", nil, c.LocalAddr().(*net.UDPAddr))
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			const N = 4000
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // paced, so that the stream outlasts the stop
				defer wg.Done()
				var b [4]byte
				for i := 0; i < N; i++ {
					binary.BigEndian.PutUint32(b[:], uint32(i))
					if _, err := tx.Write(b[:]); err != nil {
						t.Error(err)
						return
					}
					if i%8 == 7 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			defer wg.Wait()
			seen := make([]int, N)
			record := func(b []byte) {
				if len(b) != 4 {
					t.Fatalf("datagram of %d bytes", len(b))
				}
				seen[binary.BigEndian.Uint32(b)]++
			}
			// The stopped conn: bounded by a watchdog that closes it.
			watchdog := time.AfterFunc(10*time.Second, func() { _ = c.Close() })
			ms := msgs(16, 64)
			old, stopped := 0, false
			for {
				n, err := c.ReadBatch(ms)
				for i := range ms[:n] {
					record(ms[i].Buf[:ms[i].N])
				}
				old += n
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("after StopReading (%v), ReadBatch: %v; want io.EOF", stopped, err)
					}
					break
				}
				if !stopped && old >= N/4 {
					stopped = true
					go func() { // as a signal handler would, while the reader reads
						if err := c.(uring.ReadStopper).StopReading(); err != nil {
							t.Error(err)
						}
					}()
				}
			}
			watchdog.Stop()
			if !stopped {
				t.Fatal("io.EOF before StopReading")
			}
			// After io.EOF, reads keep returning it.
			if n, err := c.ReadBatch(ms); n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("second read after the stop: %d, %v; want 0, io.EOF", n, err)
			}
			// The successor reads the rest: everything still queued, and
			// what is sent meanwhile.
			total := old
			buf := make([]byte, 64)
			for total < N {
				_ = succ.SetReadDeadline(time.Now().Add(2 * time.Second))
				k, _, err := succ.ReadFrom(buf)
				if err != nil {
					break
				}
				record(buf[:k])
				total++
			}
			wg.Wait()
			var lost, dup int
			for _, s := range seen {
				switch {
				case s == 0:
					lost++
				case s > 1:
					dup += s - 1
				}
			}
			if lost > 0 || dup > 0 {
				t.Fatalf("stopped conn read %d, successor %d; %d lost, %d read twice", old, total-old, lost, dup)
			}
			if old == N {
				t.Fatal("the stopped conn read everything: the stop did not take effect")
			}
			t.Logf("stopped conn read %d, successor %d", old, total-old)
		})
	}
}

// TestStopReadingWakesReader: a ReadBatch blocked on an idle socket returns
// io.EOF when another goroutine calls StopReading; a datagram sent after the
// stop stays in the socket for the other holder; writes still work; Close
// works after the stop, and StopReading after Close reports net.ErrClosed.
func TestStopReadingWakesReader(t *testing.T) {
	for _, sc := range stopConns {
		t.Run(sc.name, func(t *testing.T) {
			c, succ := openStop(t, sc.open)
			done := make(chan error, 1)
			go func() {
				_, err := c.ReadBatch(msgs(4, 64))
				done <- err
			}()
			time.Sleep(20 * time.Millisecond) // let it block (not required: a stop before the read is seen too)
			rs := c.(uring.ReadStopper)
			if err := rs.StopReading(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, io.EOF) {
					t.Fatalf("blocked ReadBatch after StopReading: %v; want io.EOF", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("StopReading did not wake the blocked ReadBatch")
			}
			if err := rs.StopReading(); err != nil {
				t.Fatalf("second StopReading: %v", err)
			}
			// A read deadline set after the stop does not make reads block.
			if err := c.SetReadDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadBatch(msgs(1, 64)); !errors.Is(err, io.EOF) {
				t.Fatalf("ReadBatch after a deadline reset: %v; want io.EOF", err)
			}
			// Traffic both ways: what arrives now is the successor's, and the
			// stopped conn still sends.
			peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			if _, err := peer.WriteTo([]byte("after"), c.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			_ = succ.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 16)
			k, _, err := succ.ReadFrom(buf)
			if err != nil || string(buf[:k]) != "after" {
				t.Fatalf("successor read %q, %v; want \"after\"", buf[:k], err)
			}
			out := []uring.Msg{{Buf: []byte("still"), Addr: addrPort(t, uring.WrapPacketConn(peer))}}
			if n, err := c.WriteBatch(out); n != 1 || err != nil {
				t.Fatalf("WriteBatch after StopReading: %d, %v", n, err)
			}
			_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			if k, _, err := peer.ReadFrom(buf); err != nil || string(buf[:k]) != "still" {
				t.Fatalf("peer read %q, %v; want \"still\"", buf[:k], err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close after StopReading: %v", err)
			}
			if _, ok := c.(*uring.Conn); ok {
				if err := rs.StopReading(); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("StopReading after Close: %v; want net.ErrClosed", err)
				}
			}
		})
	}
}
