package wal_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/edgekit/edgekit/internal/wal"
)

// An MQTT client's store-and-forward queue: messages are appended before
// they are sent, deleted when acknowledged (in any order), and whatever is
// still in the log after a restart is sent again, in order.
func Example() {
	dir, err := os.MkdirTemp("", "wal-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	l, err := wal.Open(dir, wal.Config{Sync: wal.SyncAlways, MaxRecords: 1000, Full: wal.FullDropDroppable})
	if err != nil {
		panic(err)
	}
	a, _ := l.Append(ctx, []byte(`{"t":21.5}`), wal.AppendOptions{Class: 1})
	b, _ := l.Append(ctx, []byte(`{"t":21.6}`), wal.AppendOptions{Class: 1})
	_, _ = l.Append(ctx, []byte(`{"t":21.7}`), wal.AppendOptions{Class: 2})
	_ = l.Delete(ctx, b) // PUBACK for the second message came first
	_ = l.Delete(ctx, a)
	l.Close()

	// After a restart: what is left is pending.
	l, err = wal.Open(dir, wal.Config{})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	r := l.NewReader(0)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		fmt.Printf("resend offset %d class %d: %s\n", rec.Offset, rec.Class, rec.Data)
	}
	// Output: resend offset 3 class 2: {"t":21.7}
}
