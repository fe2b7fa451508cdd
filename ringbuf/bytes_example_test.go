package ringbuf_test

import (
	"context"
	"fmt"
	"io"

	"github.com/edgekit/edgekit/ringbuf"
)

// A parser reads length-prefixed frames (one length byte, then the payload)
// in place: it peeks at the header, peeks at the whole frame, decodes it
// without copying, and discards it. Here a goroutine writes the stream; on
// a gateway it would be ring.ReadFrom(uart). The ring is smaller than the
// stream, so frames cross its end and the writer waits for the parser.
func ExampleBytes() {
	ring, err := ringbuf.NewBytes(ringbuf.BytesConfig{
		Config:  ringbuf.Config{Capacity: 16},
		MaxPeek: 16, // the longest frame the parser accepts
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	go func() {
		defer ring.Close() // the parser sees io.EOF after the last frame
		for _, msg := range []string{"temp=21.5", "hum=40", "door=open", "temp=21.7"} {
			frame := append([]byte{byte(len(msg))}, msg...)
			if _, err := ring.Write(frame); err != nil {
				return
			}
		}
	}()

	ctx := context.Background()
	for {
		hdr, err := ring.Peek(ctx, 1)
		if err == io.EOF {
			break // closed, and every frame parsed
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		n := 1 + int(hdr[0])
		if n > ring.MaxPeek() {
			fmt.Println("frame too large")
			return
		}
		frame, err := ring.Peek(ctx, n) // valid until Discard
		if err != nil {
			fmt.Println(err) // io.ErrUnexpectedEOF: the stream ended mid-frame
			return
		}
		fmt.Printf("%s\n", frame[1:])
		ring.Discard(n)
	}
	// Output:
	// temp=21.5
	// hum=40
	// door=open
	// temp=21.7
}
