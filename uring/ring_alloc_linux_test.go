package uring_test

import (
	"net"
	"testing"

	"github.com/edgekit/edgekit/uring"
)

// TestRingNoAllocs proves the ring's hot paths allocate nothing: a
// sendmsg/recvmsg pair submitted, waited for and reaped, and a multishot
// completion decoded and its buffer recycled.
func TestRingNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	r := newRing(t, uring.RingConfig{Entries: 8, CQEntries: 64})
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	afd, bfd := udpFD(t, a), udpFD(t, b)
	send, recv := new(uring.MsgHeader), new(uring.MsgHeader)
	send.SetBuf([]byte("no allocations"))
	send.SetAddr(b.LocalAddr().(*net.UDPAddr).AddrPort(), false)
	recv.SetBuf(make([]byte, 64))
	cqes := make([]uring.CQE, 4)
	var failed error
	round := func() {
		if err := r.PrepRecvMsg(bfd, recv, 1); err != nil {
			failed = err
			return
		}
		if err := r.PrepSendMsg(afd, send, 2); err != nil {
			failed = err
			return
		}
		if _, err := r.SubmitAndWait(2); err != nil {
			failed = err
			return
		}
		for got := 0; got < 2; got += r.ReapCQEs(cqes) {
		}
		if !recv.Addr().IsValid() {
			failed = net.InvalidAddrError("no source")
		}
	}
	if n := testing.AllocsPerRun(200, round); n != 0 || failed != nil {
		t.Fatalf("recvmsg+sendmsg: %v allocs/op (err %v); want 0", n, failed)
	}

	br, err := r.RegisterBufRing(uring.BufRingConfig{Entries: 8, Size: 256})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PrepRecvMsgMultishot(bfd, br, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	var out uring.RecvMsgOut
	multi := func() {
		if err := r.PrepSendMsg(afd, send, 2); err != nil {
			failed = err
			return
		}
		if _, err := r.SubmitAndWait(2); err != nil {
			failed = err
			return
		}
		for got := 0; got < 2; {
			c, ok := r.PeekCQE()
			if !ok {
				continue
			}
			got++
			if bid, ok := c.BufferID(); ok {
				if _, err := out.Decode(br.Buf(bid)[:c.Res]); err != nil || string(out.Payload) != "no allocations" {
					failed = err
				}
				br.Recycle(bid)
				br.Publish()
			}
		}
	}
	if n := testing.AllocsPerRun(200, multi); n != 0 || failed != nil {
		t.Fatalf("multishot: %v allocs/op (err %v); want 0", n, failed)
	}
}
