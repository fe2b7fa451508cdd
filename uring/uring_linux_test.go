package uring_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/uring"
)

// TestURingRefill drives the io_uring backend past its provided buffers: the
// multishot receive ends with ENOBUFS once 8 buffers hold unread
// datagrams, and ReadBatch must recycle them and re-arm until the backlog
// left in the socket is read, in order.
func TestURingRefill(t *testing.T) {
	rx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendIOURing, RingBuffers: 8, BufferSize: 128})
	tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendMmsg})
	const count = 100
	out := make([]uring.Msg, count)
	for i := range out {
		out[i] = uring.Msg{Buf: []byte(fmt.Sprintf("refill %03d", i)), Addr: addrPort(t, rx)}
	}
	for round := 0; round < 3; round++ {
		if n, err := tx.WriteBatch(out); n != count || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
		got := readN(t, rx, count, 64)
		for i, m := range got {
			if !bytes.Equal(m.Buf, out[i].Buf) {
				t.Fatalf("round %d datagram %d = %q; want %q", round, i, m.Buf, out[i].Buf)
			}
		}
	}
	st := rx.Stats()
	if st.Received != 3*count || st.Rearms == 0 || st.Truncated != 0 || st.ReadBatches == 0 {
		t.Fatalf("stats %+v; want %d received and some re-arms", st, 3*count)
	}
	if st := tx.Stats(); st.Sent != 3*count || st.WriteBatches != 3 {
		t.Fatalf("sender stats %+v", st)
	}
}

// TestURingArmingThreadExit: the kernel runs a multishot receive's task
// work on the thread that submitted it. When that thread exits (a goroutine
// that ends while locked to its thread takes the thread with it), the kernel
// either completes the work from a fallback worker or cancels the request
// (-ECANCELED, and the conn re-arms); either way datagrams keep arriving.
func TestURingArmingThreadExit(t *testing.T) {
	type result struct {
		c   *uring.Conn
		err error
	}
	made := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		c, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendIOURing})
		made <- result{c, err}
	}()
	res := <-made
	testutil.SkipIfUnsupported(t, res.err)
	if res.err != nil {
		t.Fatal(res.err)
	}
	rx := res.c
	defer rx.Close()
	tx := listen(t, "udp4", "127.0.0.1:0", uring.Config{Backend: uring.BackendMmsg})
	time.Sleep(20 * time.Millisecond) // let the thread exit
	for i := 0; i < 3; i++ {
		if _, err := tx.WriteBatch([]uring.Msg{{Buf: []byte("after exit"), Addr: addrPort(t, rx)}}); err != nil {
			t.Fatal(err)
		}
		if got := readN(t, rx, 1, 64); string(got[0].Buf) != "after exit" {
			t.Fatalf("got %q", got[0].Buf)
		}
	}
	t.Logf("stats after the arming thread exited: %+v", rx.Stats())
}
