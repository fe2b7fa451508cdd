package uringbench

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

const (
	drainQueue   = 300000 // datagrams queued per timed round
	drainPayload = 64
	soMeminfo    = 55 // SO_MEMINFO: first word is the bytes queued on the socket
)

// reader drains: it blocks for at least one datagram and returns how many
// it consumed.
type reader interface {
	read() (int, error)
	close()
}

// drainSocket opens the receiving socket with room for a full round.
func drainSocket(tb testing.TB) *net.UDPConn {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	var serr error
	_ = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 1<<30)
	})
	if serr != nil {
		tb.Logf("SO_RCVBUFFORCE: %v (not root?); large rounds may drop datagrams", serr)
		_ = uc.SetReadBuffer(1 << 30)
	}
	return uc
}

// --- the four readers ---

type stdReader struct {
	uc  *net.UDPConn
	buf []byte
}

func (r *stdReader) read() (int, error) {
	_, _, _, _, err := r.uc.ReadMsgUDPAddrPort(r.buf, nil)
	if err != nil {
		return 0, err
	}
	return 1, nil
}
func (r *stdReader) close() { r.uc.Close() }

type connReader struct {
	c  *uring.Conn
	ms []uring.Msg
}

func newConnReader(tb testing.TB, uc *net.UDPConn, cfg uring.Config) *connReader {
	c, err := uring.NewConn(uc, cfg)
	if err != nil {
		uc.Close()
		tb.Skip(err)
	}
	r := &connReader{c: c, ms: make([]uring.Msg, 64)}
	for i := range r.ms {
		r.ms[i].Buf = make([]byte, 2048)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Hour))
	return r
}

func (r *connReader) read() (int, error) { return r.c.ReadBatch(r.ms) }
func (r *connReader) close()             { r.c.Close() }

// singleShot keeps depth one-shot recvmsg operations in flight and
// resubmits each as it completes.
type singleShot struct {
	uc   *net.UDPConn
	ring *uring.Ring
	fd   int
	hdrs []uring.MsgHeader
	cqes []uring.CQE
}

func newSingleShot(tb testing.TB, uc *net.UDPConn, depth int) *singleShot {
	ring, err := uring.NewRing(uring.RingConfig{Entries: depth, CQEntries: 2 * depth})
	if err != nil {
		uc.Close()
		tb.Skip(err)
	}
	s := &singleShot{uc: uc, ring: ring, hdrs: make([]uring.MsgHeader, depth), cqes: make([]uring.CQE, depth)}
	rc, _ := uc.SyscallConn()
	_ = rc.Control(func(fd uintptr) { s.fd = int(fd) })
	for i := range s.hdrs {
		s.hdrs[i].SetBuf(make([]byte, 2048))
		if err := ring.PrepRecvMsg(s.fd, &s.hdrs[i], uint64(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := ring.Submit(); err != nil {
		tb.Fatal(err)
	}
	return s
}

func (s *singleShot) read() (int, error) {
	n := s.ring.ReapCQEs(s.cqes)
	if n == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return 0, s.ring.Wait(ctx)
	}
	got := 0
	for _, c := range s.cqes[:n] {
		if c.Res > 0 && s.hdrs[c.UserData].Addr().IsValid() {
			got++
		}
		if err := s.ring.PrepRecvMsg(s.fd, &s.hdrs[c.UserData], c.UserData); err != nil {
			return got, err
		}
	}
	_, err := s.ring.Submit()
	return got, err
}

func (s *singleShot) close() { s.ring.Close(); s.uc.Close() }

var readers = []struct {
	name string
	open func(testing.TB, *net.UDPConn) reader
}{
	{"net.UDPConn", func(tb testing.TB, uc *net.UDPConn) reader {
		_ = uc.SetReadDeadline(time.Now().Add(time.Hour))
		return &stdReader{uc: uc, buf: make([]byte, 2048)}
	}},
	{"recvmmsg", func(tb testing.TB, uc *net.UDPConn) reader {
		return newConnReader(tb, uc, uring.Config{Backend: uring.BackendMmsg, BatchSize: 64})
	}},
	{"io_uring-singleshot", func(tb testing.TB, uc *net.UDPConn) reader { return newSingleShot(tb, uc, 64) }},
	{"io_uring-multishot", func(tb testing.TB, uc *net.UDPConn) reader {
		return newConnReader(tb, uc, uring.Config{Backend: uring.BackendIOURing, RingBuffers: 4096, BufferSize: 2048})
	}},
}

// --- filling ---

type sender struct {
	tx  *uring.Conn
	out []uring.Msg
	rx  *net.UDPConn
}

func newSender(tb testing.TB, rx *net.UDPConn) *sender {
	tx, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendMmsg, WriteBuffer: 4 << 20})
	if err != nil { // no recvmmsg here: any backend will do for filling
		if tx, err = uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{}); err != nil {
			tb.Fatal(err)
		}
	}
	s := &sender{tx: tx, out: make([]uring.Msg, 64), rx: rx}
	payload := make([]byte, drainPayload)
	for i := range s.out {
		s.out[i] = uring.Msg{Buf: payload, Addr: rx.LocalAddr().(*net.UDPAddr).AddrPort()}
	}
	return s
}

// fill queues n datagrams, then waits until loopback delivery (softirq work
// that may continue on the other CPU after sendmmsg returns) has finished,
// so the timed drain reads a full queue instead of racing the sender.
func (s *sender) fill(tb testing.TB, n int) {
	for n > 0 {
		k, err := s.tx.WriteBatch(s.out[:min(n, len(s.out))])
		if err != nil {
			tb.Fatal(err)
		}
		n -= k
	}
	rc, _ := s.rx.SyscallConn()
	last := -1
	for i := 0; i < 2000; i++ {
		var q int
		var err error
		_ = rc.Control(func(fd uintptr) { q, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, soMeminfo) })
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			return
		}
		if q == last {
			return
		}
		last = q
		time.Sleep(2 * time.Millisecond)
	}
}

// cpuTime is the CPU time (user + system) the process has used so far. On a
// shared machine it is steadier than wall time, since time spent
// descheduled does not count; it does count work on both CPUs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drain reads until want datagrams have been consumed.
func drain(tb testing.TB, r reader, want int) {
	for got := 0; got < want; {
		n, err := r.read()
		if err != nil {
			tb.Fatalf("after %d of %d queued datagrams: %v (dropped?)", got, want, err)
		}
		got += n
	}
}

// BenchmarkDrain times draining queued 64-byte datagrams; ns/op is per
// datagram. With -benchtime 300000x each sub-benchmark is one full round
// of 300k datagrams.
func BenchmarkDrain(b *testing.B) {
	for _, rd := range readers {
		b.Run(rd.name, func(b *testing.B) {
			defer maybePin(b)()
			rx := drainSocket(b)
			s := newSender(b, rx)
			defer s.tx.Close()
			r := rd.open(b, rx)
			defer r.close()
			b.ReportAllocs()
			b.SetBytes(drainPayload)
			b.ResetTimer()
			var cpu time.Duration
			for done := 0; done < b.N; {
				q := min(drainQueue, b.N-done)
				b.StopTimer()
				s.fill(b, q)
				b.StartTimer()
				c0 := cpuTime()
				drain(b, r, q)
				cpu += cpuTime() - c0
				done += q
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/pkt")
		})
	}
}

// TestDrainHarness checks that every reader drains exactly what was queued,
// so the benchmark measures complete rounds.
func TestDrainHarness(t *testing.T) {
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			rx := drainSocket(t)
			s := newSender(t, rx)
			defer s.tx.Close()
			r := rd.open(t, rx)
			defer r.close()
			for round := 0; round < 3; round++ {
				s.fill(t, 5000)
				drain(t, r, 5000)
			}
			// Nothing is left over: a further read times out.
			if c, ok := r.(*connReader); ok {
				_ = c.c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				if n, err := r.read(); err == nil {
					t.Fatalf("read %d extra datagrams", n)
				}
			}
		})
	}
}

// BenchmarkDrainRatios measures the bars directly: each op drains
// one 300k-datagram round with every reader in turn (so load drift on a
// shared machine hits them alike) and the metrics are ns/packet per reader
// and each reader's packets/s as a multiple of net.UDPConn's (x-…), plus
// the same ratio in CPU time (cpu-x-…), which a busy machine disturbs
// less. ns/op is the time of all four drains. Run with -benchtime 3x or so.
func BenchmarkDrainRatios(b *testing.B) {
	type lane struct {
		name string
		rx   *net.UDPConn
		s    *sender
		r    reader
		d    time.Duration
		cpu  time.Duration
	}
	defer maybePin(b)()
	lanes := make([]*lane, len(readers))
	for i, rd := range readers {
		rx := drainSocket(b)
		l := &lane{name: rd.name, rx: rx, s: newSender(b, rx)}
		l.r = rd.open(b, rx)
		lanes[i] = l
	}
	defer func() {
		for _, l := range lanes {
			l.r.close()
			l.s.tx.Close()
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, l := range lanes {
			b.StopTimer()
			l.s.fill(b, drainQueue)
			b.StartTimer()
			start, c0 := time.Now(), cpuTime()
			drain(b, l.r, drainQueue)
			l.d += time.Since(start)
			l.cpu += cpuTime() - c0
		}
	}
	base, cbase := lanes[0].d, lanes[0].cpu
	for _, l := range lanes {
		b.ReportMetric(float64(l.d.Nanoseconds())/float64(b.N*drainQueue), "ns/pkt-"+l.name)
		if l != lanes[0] {
			b.ReportMetric(float64(base)/float64(l.d), "x-"+l.name)
			if l.cpu > 0 {
				b.ReportMetric(float64(cbase)/float64(l.cpu), "cpu-x-"+l.name)
			}
		}
	}
}
