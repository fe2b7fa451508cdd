package uring_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/uring"
)

// drainQueue is how many datagrams a drain round queues before timing: the
// issue's 300k, or fewer when b.N is smaller. Run with -benchtime=300000x
// to time exactly one full round.
const (
	drainQueue   = 300000
	drainPayload = 64
)

// drainSocket opens the receiving socket with a receive buffer big enough to
// hold a full round (SO_RCVBUFFORCE needs CAP_NET_ADMIN; the plain
// SO_RCVBUF fallback is capped by net.core.rmem_max).
func drainSocket(b *testing.B) *net.UDPConn {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	var serr error
	_ = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, 1<<30)
	})
	if serr != nil {
		b.Logf("SO_RCVBUFFORCE: %v; rounds may drop datagrams", serr)
		_ = uc.SetReadBuffer(1 << 30)
	}
	return uc
}

// drainSender fills a socket's queue with 64-byte datagrams.
type drainSender struct {
	tx  *uring.Conn
	out []uring.Msg
}

func newDrainSender(b *testing.B, to net.Addr) *drainSender {
	tx, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendMmsg, WriteBuffer: 4 << 20})
	if err != nil {
		tx, err = uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{})
		if err != nil {
			b.Fatal(err)
		}
	}
	s := &drainSender{tx: tx, out: make([]uring.Msg, 64)}
	payload := make([]byte, drainPayload)
	for i := range s.out {
		s.out[i] = uring.Msg{Buf: payload, Addr: to.(*net.UDPAddr).AddrPort()}
	}
	return s
}

func (s *drainSender) fill(b *testing.B, n int) {
	for n > 0 {
		k, err := s.tx.WriteBatch(s.out[:min(n, len(s.out))])
		if err != nil {
			b.Fatal(err)
		}
		n -= k
	}
}

// soMeminfo is SO_MEMINFO; its first word is the bytes queued on the socket.
const soMeminfo = 55

// settle waits until loopback delivery of the fill has finished (softirq
// work may still run on the other CPU after sendmmsg returns), so that the
// timed drain reads a full queue instead of racing the sender.
func settle(b *testing.B, rx *net.UDPConn) {
	rc, _ := rx.SyscallConn()
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

// benchDrain times draining rounds of queued datagrams with read, which
// must return how many it received (blocking for at least one).
func benchDrain(b *testing.B, rx *net.UDPConn, read func() (int, error)) {
	s := newDrainSender(b, rx.LocalAddr())
	defer s.tx.Close()
	b.ReportAllocs()
	b.SetBytes(drainPayload)
	b.ResetTimer()
	var cpu time.Duration
	for done := 0; done < b.N; {
		q := min(drainQueue, b.N-done)
		b.StopTimer()
		s.fill(b, q)
		settle(b, rx)
		_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
		b.StartTimer()
		c0 := cpuTime()
		for got := 0; got < q; {
			n, err := read()
			if err != nil {
				b.Fatalf("after %d of %d queued datagrams: %v (dropped?)", got, q, err)
			}
			got += n
		}
		cpu += cpuTime() - c0
		done += q
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/pkt")
}

// cpuTime is the process's CPU time (user + system): steadier than wall
// time on a shared machine, and it counts work on every CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchDrainConn(b *testing.B, cfg uring.Config) {
	defer maybePin(b)()
	rx := drainSocket(b)
	c, err := uring.NewConn(rx, cfg)
	if err != nil {
		rx.Close()
		b.Skip(err)
	}
	defer c.Close()
	ms := msgs(64, 2048)
	// SetReadDeadline on rx reaches the mmsg and std backends; the io_uring
	// one waits on its eventfd, so set the Conn's deadline too.
	_ = c.SetReadDeadline(time.Now().Add(time.Hour))
	benchDrain(b, rx, func() (int, error) { return c.ReadBatch(ms) })
}

// BenchmarkDrain drains queued 64-byte datagrams: ns/op is ns per datagram.
func BenchmarkDrain(b *testing.B) {
	b.Run("std", func(b *testing.B) { benchDrainConn(b, uring.Config{Backend: uring.BackendStd}) })
	b.Run("mmsg", func(b *testing.B) { benchDrainConn(b, uring.Config{Backend: uring.BackendMmsg}) })
	b.Run("io_uring-singleshot", benchDrainSingleShot)
	b.Run("io_uring-multishot", func(b *testing.B) {
		benchDrainConn(b, uring.Config{Backend: uring.BackendIOURing, RingBuffers: 4096, BufferSize: 2048})
	})
}

// benchDrainSingleShot keeps 64 one-shot recvmsg operations in flight on a
// Ring and resubmits each as it completes.
func benchDrainSingleShot(b *testing.B) {
	const depth = 64
	defer maybePin(b)()
	rx := drainSocket(b)
	defer rx.Close()
	ring, err := uring.NewRing(uring.RingConfig{Entries: depth, CQEntries: 2 * depth})
	if err != nil {
		b.Skip(err)
	}
	defer ring.Close()
	rc, _ := rx.SyscallConn()
	var fd int
	_ = rc.Control(func(f uintptr) { fd = int(f) })
	hdrs := make([]uring.MsgHeader, depth)
	for i := range hdrs {
		hdrs[i].SetBuf(make([]byte, 2048))
		if err := ring.PrepRecvMsg(fd, &hdrs[i], uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ring.Submit(); err != nil {
		b.Fatal(err)
	}
	cqes := make([]uring.CQE, depth)
	ctx := context.Background()
	benchDrain(b, rx, func() (int, error) {
		n := ring.ReapCQEs(cqes)
		if n == 0 {
			return 0, ring.Wait(ctx)
		}
		got := 0
		for _, c := range cqes[:n] {
			if c.Res > 0 && hdrs[c.UserData].Addr().IsValid() {
				got++
			}
			if err := ring.PrepRecvMsg(fd, &hdrs[c.UserData], c.UserData); err != nil {
				return got, err
			}
		}
		_, err := ring.Submit()
		return got, err
	})
}
