package sys

import (
	"os"
	"testing"
)

func TestEpoll(t *testing.T) {
	ep, err := NewEpoll(8)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rc, _ := r.SyscallConn()
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	if err := ep.Add(fd, 7); err != nil {
		t.Fatal(err)
	}
	evs, err := ep.Wait(nil, 0)
	if err != nil || len(evs) != 0 {
		t.Fatalf("idle: %v %v", evs, err)
	}
	w.Write([]byte("hi"))
	evs, err = ep.Wait(evs[:0], 1000)
	if err != nil || len(evs) != 1 || evs[0].Key != 7 {
		t.Fatalf("ready: %v %v", evs, err)
	}
	// One-shot: no second event until rearmed, though data is pending.
	if evs, _ = ep.Wait(evs[:0], 0); len(evs) != 0 {
		t.Fatalf("one-shot fired twice: %v", evs)
	}
	if err := ep.Rearm(fd, 7); err != nil {
		t.Fatal(err)
	}
	if evs, _ = ep.Wait(evs[:0], 1000); len(evs) != 1 {
		t.Fatalf("rearm: %v", evs)
	}
	var buf [8]byte
	n, wb, err := ReadNonblock(fd, buf[:])
	if err != nil || wb || n != 2 {
		t.Fatalf("read %d %v %v", n, wb, err)
	}
	n, wb, err = ReadNonblock(fd, buf[:])
	if err != nil || !wb || n != 0 {
		t.Fatalf("drained read %d %v %v", n, wb, err)
	}
	w.Close()
	ep.Rearm(fd, 7)
	if evs, _ = ep.Wait(evs[:0], 1000); len(evs) != 1 {
		t.Fatalf("hangup: %v", evs)
	}
	if n, _, err := ReadNonblock(fd, buf[:]); n != 0 || err != nil {
		t.Fatalf("EOF read %d %v", n, err)
	}
	if err := ep.Remove(fd); err != nil {
		t.Fatal(err)
	}
}
