package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// stores returns a fresh memory store and file store with the same bounds.
func stores(t *testing.T, maxRecords int, full client.FullPolicy) map[string]client.Store {
	fs, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncNever, MaxRecords: maxRecords, Full: full})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return map[string]client.Store{
		"mem":  client.NewMemStore(client.MemStoreConfig{MaxRecords: maxRecords, Full: full}),
		"file": fs,
	}
}

func readAll(t *testing.T, s client.Store) (keys []uint64, recs []string) {
	t.Helper()
	var from uint64 = 1
	for {
		k, rec, err := s.Next(from, nil)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		keys, recs = append(keys, k), append(recs, string(rec))
		from = k + 1
	}
}

func TestStoreBasics(t *testing.T) {
	for name, s := range stores(t, 100, client.FullBlock) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var keys []uint64
			for i := range 10 {
				k, err := s.Append(ctx, []byte(fmt.Sprint("r", i)), 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(keys) > 0 && k <= keys[len(keys)-1] {
					t.Fatalf("keys not increasing: %d after %d", k, keys[len(keys)-1])
				}
				keys = append(keys, k)
			}
			if err := s.Delete(ctx, []uint64{keys[0], keys[3], keys[4]}); err != nil {
				t.Fatal(err)
			}
			nk, err := s.Replace(ctx, keys[1], []byte("r1-b"), 2)
			if err != nil {
				t.Fatal(err)
			}
			_, recs := readAll(t, s)
			got := strings.Join(recs, ",")
			if name == "mem" && got != "r1-b,r2,r5,r6,r7,r8,r9" || name == "file" && got != "r2,r5,r6,r7,r8,r9,r1-b" {
				t.Fatalf("records %s (replaced key %d)", got, nk)
			}
			if st := s.Stats(); st.Records != 7 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestStoreFullPolicies(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t, 4, client.FullDropQoS0) {
		t.Run("drop/"+name, func(t *testing.T) {
			for i, q := range []uint8{0, 1, 0, 1} {
				if _, err := s.Append(ctx, []byte(fmt.Sprint("m", i)), q); err != nil {
					t.Fatal(err)
				}
			}
			// Full: the oldest QoS 0 goes first, then the next one.
			for i := 4; i < 6; i++ {
				if _, err := s.Append(ctx, []byte(fmt.Sprint("m", i)), 1); err != nil {
					t.Fatal(err)
				}
			}
			_, recs := readAll(t, s)
			if got := strings.Join(recs, ","); got != "m1,m3,m4,m5" {
				t.Fatalf("records %s", got)
			}
			if d := s.Stats().Dropped; d != 2 {
				t.Fatalf("dropped %d", d)
			}
			// No QoS 0 left: it blocks until ctx ends.
			c2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := s.Append(c2, []byte("m6"), 1); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("append to a full store of QoS 1: %v", err)
			}
		})
	}
	for name, s := range stores(t, 2, client.FullBlock) {
		t.Run("block/"+name, func(t *testing.T) {
			k1, _ := s.Append(ctx, []byte("a"), 1)
			s.Append(ctx, []byte("b"), 1)
			done := make(chan error, 1)
			go func() {
				_, err := s.Append(ctx, []byte("c"), 1)
				done <- err
			}()
			select {
			case err := <-done:
				t.Fatalf("append did not block: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			s.Delete(ctx, []uint64{k1})
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("append still blocked after a delete")
			}
		})
	}
	for name, s := range stores(t, 1, client.FullFail) {
		t.Run("fail/"+name, func(t *testing.T) {
			s.Append(ctx, []byte("a"), 1)
			if _, err := s.Append(ctx, []byte("b"), 1); !errors.Is(err, client.ErrStoreFull) {
				t.Fatalf("got %v, want ErrStoreFull", err)
			}
		})
	}
}

// TestClientStoreBound: with a bounded store in store-and-forward mode and
// no broker, QoS 0 messages are dropped oldest first and QoS 1 publishers
// block; once connected everything left is sent in order.
func TestClientOfflineQueue(t *testing.T) {
	fb := newFakeBroker(t, mqtt.V5)
	st := client.NewMemStore(client.MemStoreConfig{MaxRecords: 5, Full: client.FullDropQoS0})
	c := fakeClient(t, fb, client.Config{Store: st, ReturnWhenStored: true})
	ctx := ctxT(t)
	for i := range 5 {
		if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("q"), QoS: uint8(i % 2), Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	// 0(q0) 1 2(q0) 3 4(q0): two more QoS 1 drop messages 0 and 2.
	for i := 5; i < 7; i++ {
		if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("q"), QoS: 1, Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Dropped != 2 || s.Stored != 5 || s.Queued != 7 {
		t.Fatalf("stats %+v", s)
	}
	c.Start()
	fc := fb.next()
	fc.accept(false, mqtt.Properties{})
	var got []byte
	for range 5 {
		fc.expect(mqtt.TypePublish)
		got = append(got, fc.d.Publish.Payload[0])
		if fc.d.Publish.QoS == 1 {
			fc.write(&mqtt.Ack{Type: mqtt.TypePuback, Version: mqtt.V5, ID: fc.d.Publish.ID})
		}
	}
	if string(got) != "\x01\x03\x04\x05\x06" {
		t.Fatalf("sent %v, want 1 3 4 5 6", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Stored != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("store not drained: %+v", c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFileStoreTornAndCorrupt damages the store file two ways (a torn
// tail, a flipped byte in the middle) and checks that it reopens, reports
// the damage, and a client resumes what is left.
func TestFileStoreTornAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	fs, err := filestore.Open(dir, filestore.Config{Compression: filestore.CompressNone})
	if err != nil {
		t.Fatal(err)
	}
	// Queue 20 messages through a client (never connected) so the
	// records are real client records.
	c, err := client.New(client.Config{Addr: "127.0.0.1:1", Store: fs, ReturnWhenStored: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := c.Publish(ctx, &mqtt.Publish{Topic: []byte("t"), QoS: 1, Payload: []byte(fmt.Sprintf("payload-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	fs.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside message 5's payload and tear the last record.
	i := strings.Index(string(data), "payload-05")
	if i < 0 {
		t.Fatal("payload not found in the segment")
	}
	data[i+3] ^= 0xFF
	data = data[:len(data)-7]
	if err := os.WriteFile(segs[0], data, 0o600); err != nil {
		t.Fatal(err)
	}

	fs, err = filestore.Open(dir, filestore.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	rec := fs.Recovery()
	t.Logf("recovery %+v", rec)
	if rec.TornBytes == 0 || rec.DamagedCount == 0 {
		t.Fatalf("damage not reported: %+v", rec)
	}
	if n := fs.Stats().Records; n != 18 {
		t.Fatalf("%d records survive, want 18", n)
	}
	// A client on the repaired store sends the 18 in order.
	fb := newFakeBroker(t, mqtt.V311)
	c2 := fakeClient(t, fb, client.Config{Store: fs})
	c2.Start()
	fconn := fb.next()
	fconn.accept(false, mqtt.Properties{})
	var got []string
	for range 18 {
		fconn.expect(mqtt.TypePublish)
		got = append(got, string(fconn.d.Publish.Payload))
		fconn.write(&mqtt.Ack{Type: mqtt.TypePuback, ID: fconn.d.Publish.ID})
	}
	var want []string
	for i := range 19 {
		if i != 5 {
			want = append(want, fmt.Sprintf("payload-%02d", i))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sent %v", got)
	}
	// A store refusing corruption fails to open instead.
	fconn.c.Close()
	c2.Close()
	fs.Close()
	data[i+4] ^= 0xFF // damage another record
	os.WriteFile(segs[0], data, 0o600)
	if _, err := filestore.Open(dir, filestore.Config{FailOnCorruption: true, Logger: discardLogger()}); err == nil {
		t.Fatal("FailOnCorruption: a damaged store opened")
	}
}
