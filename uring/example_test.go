package uring_test

import (
	"fmt"
	"log"
	"net"

	"github.com/edgekit/edgekit/uring"
)

// Receive a batch on the best backend available; Report says which one
// that is and why better ones were refused (for instance io_uring under
// Docker's default seccomp profile).
func Example() {
	rx, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer rx.Close()
	log.Printf("uring backend: %v", rx.Report())

	tx, err := uring.ListenUDP("udp4", "127.0.0.1:0", uring.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	out := []uring.Msg{{Buf: []byte("temp=21.5"), Addr: to}, {Buf: []byte("hum=40"), Addr: to}}
	if _, err := tx.WriteBatch(out); err != nil {
		log.Fatal(err)
	}

	// Reuse the Msg slice and its buffers for every batch: no allocation per
	// datagram.
	in := make([]uring.Msg, 16)
	for i := range in {
		in[i].Buf = make([]byte, 1500)
	}
	for got := 0; got < len(out); {
		n, err := rx.ReadBatch(in)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range in[:n] {
			fmt.Printf("%s from the sender: %v\n", m.Buf[:m.N], m.Addr == tx.LocalAddr().(*net.UDPAddr).AddrPort())
		}
		got += n
	}
	// Output:
	// temp=21.5 from the sender: true
	// hum=40 from the sender: true
}
