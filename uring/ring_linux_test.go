package uring_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/uring"
)

func newRing(t *testing.T, cfg uring.RingConfig) *uring.Ring {
	t.Helper()
	r, err := uring.NewRing(cfg)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// waitCQEs reaps exactly n completions, waiting through the eventfd.
func waitCQEs(t *testing.T, r *uring.Ring, n int) []uring.CQE {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make([]uring.CQE, 0, n)
	buf := make([]uring.CQE, n)
	for len(out) < n {
		k := r.ReapCQEs(buf[:n-len(out)])
		out = append(out, buf[:k]...)
		if len(out) < n {
			if err := r.Wait(ctx); err != nil {
				t.Fatalf("Wait after %d of %d completions: %v", len(out), n, err)
			}
		}
	}
	return out
}

func pipe(t *testing.T) (rfd, wfd int) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
	return p[0], p[1]
}

func udpFD(t *testing.T, c *net.UDPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestRingSetupAndProbe(t *testing.T) {
	r := newRing(t, uring.RingConfig{})
	if r.SQEntries() != 64 || r.CQEntries() != 128 {
		t.Errorf("entries = %d/%d; want 64/128", r.SQEntries(), r.CQEntries())
	}
	for _, op := range []uring.Op{uring.OpNop, uring.OpRead, uring.OpWrite, uring.OpRecvMsg, uring.OpSendMsg, uring.OpTimeout, uring.OpAsyncCancel} {
		if !r.Supports(op) {
			t.Errorf("probe: op %d not supported", op)
		}
	}
	if r.Supports(255) {
		t.Error("probe claims op 255")
	}
	if !r.Features().Has(uring.FeatNoDrop) {
		t.Errorf("features %#x lack NODROP", r.Features())
	}
	for _, cfg := range []uring.RingConfig{{Entries: -1}, {Entries: uring.MaxRingEntries + 1}, {Entries: 8, CQEntries: 4}, {CQEntries: uring.MaxCQEntries + 1}} {
		if _, err := uring.NewRing(cfg); !errors.Is(err, uring.ErrBadConfig) {
			t.Errorf("NewRing(%+v) = %v; want ErrBadConfig", cfg, err)
		}
	}
}

func TestRingNopAndFull(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 4})
	for i := 0; i < 4; i++ {
		if err := r.PrepNop(uint64(100 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.PrepNop(0); !errors.Is(err, uring.ErrSQFull) {
		t.Fatalf("fifth PrepNop: %v; want ErrSQFull", err)
	}
	if n, err := r.SubmitAndWait(4); n != 4 || err != nil {
		t.Fatalf("SubmitAndWait = %d, %v", n, err)
	}
	for i, c := range waitCQEs(t, r, 4) {
		if c.UserData != uint64(100+i) || c.Res != 0 || c.Err() != nil || c.More() {
			t.Errorf("cqe %d = %+v", i, c)
		}
	}
	if _, ok := r.PeekCQE(); ok {
		t.Error("CQ not empty")
	}
	if err := r.PrepNop(7); err != nil { // room again
		t.Fatal(err)
	}
}

func TestRingReadWrite(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 8})
	rfd, wfd := pipe(t)
	msg := []byte("through the ring")
	got := make([]byte, 64)
	if err := r.PrepWrite(wfd, msg, -1, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.PrepRead(rfd, got, -1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range waitCQEs(t, r, 2) {
		if c.Res != int32(len(msg)) {
			t.Errorf("cqe %+v: res %d; want %d", c, c.Res, len(msg))
		}
	}
	if !bytes.Equal(got[:len(msg)], msg) {
		t.Fatalf("read %q", got[:len(msg)])
	}
}

func TestRingTimeoutAndCancel(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 8})
	start := time.Now()
	if err := r.PrepTimeout(20*time.Millisecond, 0, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	c := waitCQEs(t, r, 1)[0]
	if c.UserData != 1 || !errors.Is(c.Err(), syscall.ETIME) {
		t.Fatalf("timeout cqe %+v (%v); want ETIME", c, c.Err())
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("timeout fired after %v", d)
	}

	// A read of an empty pipe stays pending until cancelled.
	rfd, _ := pipe(t)
	buf := make([]byte, 8)
	if err := r.PrepRead(rfd, buf, -1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.PeekCQE(); ok {
		t.Fatalf("read of empty pipe completed: %+v", c)
	}
	if err := r.PrepCancel(10, 11); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	for _, c := range waitCQEs(t, r, 2) {
		switch c.UserData {
		case 10:
			if !errors.Is(c.Err(), syscall.ECANCELED) {
				t.Errorf("cancelled read: %v", c.Err())
			}
		case 11:
			if c.Res != 0 {
				t.Errorf("cancel: %v", c.Err())
			}
		default:
			t.Errorf("unexpected cqe %+v", c)
		}
	}
}

func TestRingWaitContext(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v; want DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if err := r.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v; want Canceled", err)
	}
	// A completion wakes Wait.
	if err := r.PrepTimeout(time.Millisecond, 0, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, ok := r.PeekCQE(); !ok || c.UserData != 5 {
		t.Fatalf("PeekCQE = %+v, %v", c, ok)
	}
}

func TestRingSendRecvMsg(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 8})
	for _, lb := range loopbacks {
		t.Run(lb.network, func(t *testing.T) {
			a, err := net.ListenUDP(lb.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(lb.addr)))
			if err != nil {
				t.Skip(err)
			}
			defer a.Close()
			b, err := net.ListenUDP(lb.network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(lb.addr)))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var send, recv, small uring.MsgHeader
			send.SetBuf([]byte("ring datagram"))
			if !send.SetAddr(b.LocalAddr().(*net.UDPAddr).AddrPort(), lb.network == "udp6") {
				t.Fatal("SetAddr refused a same-family address")
			}
			rbuf, sbuf := make([]byte, 64), make([]byte, 4)
			recv.SetBuf(rbuf)
			small.SetBuf(sbuf)
			for _, op := range []func() error{
				func() error { return r.PrepRecvMsg(udpFD(t, b), &recv, 1) },
				func() error { return r.PrepSendMsg(udpFD(t, a), &send, 2) },
				func() error { return r.PrepRecvMsg(udpFD(t, b), &small, 3) },
				func() error { return r.PrepSendMsg(udpFD(t, a), &send, 4) },
			} {
				if err := op(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			res := map[uint64]int32{}
			for _, c := range waitCQEs(t, r, 4) {
				res[c.UserData] = c.Res
			}
			if res[1] != 13 || res[2] != 13 || res[3] != 4 || res[4] != 13 {
				t.Fatalf("results %v", res)
			}
			if string(rbuf[:13]) != "ring datagram" || string(sbuf) != "ring" {
				t.Fatalf("received %q and %q", rbuf[:13], sbuf)
			}
			from := a.LocalAddr().(*net.UDPAddr).AddrPort()
			if recv.Addr() != from || small.Addr() != from {
				t.Fatalf("source %v, %v; want %v", recv.Addr(), small.Addr(), from)
			}
			if recv.Truncated() || !small.Truncated() || small.Flags()&syscall.MSG_TRUNC == 0 {
				t.Fatalf("truncation flags %#x %#x", recv.Flags(), small.Flags())
			}
		})
	}
	var h uring.MsgHeader
	if h.SetAddr(netip.MustParseAddrPort("[::1]:5"), false) {
		t.Error("SetAddr accepted IPv6 for an IPv4 socket")
	}
}

func TestRingMultishotBufRing(t *testing.T) {
	r := newRing(t, uring.RingConfig{Entries: 8, CQEntries: 64})
	for _, cfg := range []uring.BufRingConfig{
		{Entries: 3, Size: 64}, {Entries: 0, Size: 64}, {Entries: 4, Size: 0},
		{Entries: 4, Size: uring.MaxBufferSize + 1}, {Entries: uring.MaxBufRingSize, Size: uring.MaxBufferSize},
	} {
		if _, err := r.RegisterBufRing(cfg); !errors.Is(err, uring.ErrBadConfig) {
			t.Fatalf("RegisterBufRing(%+v): %v; want ErrBadConfig", cfg, err)
		}
	}
	br, err := r.RegisterBufRing(uring.BufRingConfig{Entries: 4, Size: 128, Group: 7})
	if err != nil {
		t.Fatal(err)
	}
	if br.Group() != 7 || len(br.Buf(3)) != 128 {
		t.Fatalf("group %d, buf len %d", br.Group(), len(br.Buf(3)))
	}
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := r.PrepRecvMsgMultishot(udpFD(t, rx), br, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	send := func(p string) {
		if _, err := tx.WriteToUDPAddrPort([]byte(p), rx.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
			t.Fatal(err)
		}
	}
	long := string(bytes.Repeat([]byte("L"), 100)) // 100 > 128-44 bytes of payload room
	// Round 1: three datagrams, buffers recycled; the receive stays armed.
	for _, p := range []string{"one", "two", long} {
		send(p)
	}
	var out uring.RecvMsgOut
	for i, c := range waitCQEs(t, r, 3) {
		bid, ok := c.BufferID()
		if c.UserData != 42 || !ok || !c.More() || c.Res <= 0 {
			t.Fatalf("cqe %d = %+v", i, c)
		}
		if _, err := out.Decode(br.Buf(bid)[:c.Res]); err != nil {
			t.Fatal(err)
		}
		if out.Addr != tx.LocalAddr().(*net.UDPAddr).AddrPort() {
			t.Fatalf("source %v", out.Addr)
		}
		switch i {
		case 0, 1:
			if string(out.Payload) != []string{"one", "two"}[i] || out.Truncated() {
				t.Fatalf("payload %q truncated=%v", out.Payload, out.Truncated())
			}
		case 2:
			if len(out.Payload) != 128-44 || !out.Truncated() || !bytes.Equal(out.Payload, []byte(long[:84])) {
				t.Fatalf("long: len %d of %d, truncated=%v", len(out.Payload), out.PayloadLen, out.Truncated())
			}
		}
		br.Recycle(bid)
	}
	br.Publish()
	// Round 2: five datagrams into four buffers: four land, then the receive
	// ends with ENOBUFS.
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		send(p)
	}
	cqes := waitCQEs(t, r, 5)
	for i, c := range cqes[:4] {
		if _, ok := c.BufferID(); !ok || !c.More() {
			t.Fatalf("cqe %d = %+v", i, c)
		}
	}
	if last := cqes[4]; last.More() || !errors.Is(last.Err(), syscall.ENOBUFS) {
		t.Fatalf("last cqe %+v (%v); want ENOBUFS without More", last, last.Err())
	}
	if _, err := out.Decode(make([]byte, 10)); err == nil {
		t.Fatal("Decode of a short buffer succeeded")
	}
}

func TestRingClose(t *testing.T) {
	r, err := uring.NewRing(uring.RingConfig{Entries: 4})
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	rfd, _ := pipe(t)
	buf := make([]byte, 8)
	if err := r.PrepRead(rfd, buf, -1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Close() }() // must cancel the pending read, not hang
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-timer.C:
		t.Fatal("Close hung on a pending read")
	}
	if err := r.PrepNop(1); !errors.Is(err, uring.ErrRingClosed) {
		t.Fatalf("PrepNop after Close: %v", err)
	}
	if _, err := r.Submit(); !errors.Is(err, uring.ErrRingClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	if err := r.Wait(context.Background()); !errors.Is(err, uring.ErrRingClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
