package client_test

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

// TestStoreConcurrentQueue drives a Store the way the client does, with
// everything concurrent: publishers Append, one reader walks the queue
// with Next and a cursor, a window of read records is acknowledged in
// random order, and a deleter goroutine deletes the acknowledged keys in
// batches. Every appended record must be read exactly once, in append
// order per publisher, and the store must end empty.
func TestStoreConcurrentQueue(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 4000
	}
	open := map[string]func(t *testing.T) client.Store{
		"mem": func(t *testing.T) client.Store { return client.NewMemStore(client.MemStoreConfig{MaxRecords: 500}) },
		"file": func(t *testing.T) client.Store {
			s, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncNever, MaxRecords: 500})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		// Small segments: rolls, reaping and compaction under the reader.
		"file/segments": func(t *testing.T) client.Store {
			s, err := filestore.Open(t.TempDir(), filestore.Config{Sync: filestore.SyncNever, MaxRecords: 500,
				SegmentSize: 4 << 10, Compression: filestore.CompressNone})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	for name, mk := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testStoreConcurrentQueue(t, mk(t), n)
		})
	}
}

func testStoreConcurrentQueue(t *testing.T, s client.Store, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const pubs = 3
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := make([]byte, 12, 40)
			for i := p; i < n; i += pubs {
				binary.BigEndian.PutUint32(rec, uint32(p))
				binary.BigEndian.PutUint64(rec[4:], uint64(i))
				if _, err := s.Append(ctx, rec[:12+i%24], 1); err != nil {
					t.Errorf("append %d: %v", i, err)
					return
				}
			}
		}()
	}

	// The deleter: batches of acknowledged keys, deleted asynchronously.
	var dmu sync.Mutex
	var delQ []uint64
	delWake := make(chan struct{}, 1)
	delDone := make(chan struct{})
	stopDel := make(chan struct{})
	go func() {
		defer close(delDone)
		var batch []uint64
		for {
			stop := false
			select {
			case <-delWake:
			case <-stopDel:
				stop = true
			}
			dmu.Lock()
			batch, delQ = delQ, batch[:0]
			dmu.Unlock()
			if len(batch) > 0 {
				if err := s.Delete(context.Background(), batch); err != nil {
					t.Errorf("delete: %v", err)
				}
			}
			if stop {
				return
			}
		}
	}()

	seen := make([]bool, n)
	last := [pubs]int{-1, -1, -1}
	var window []uint64
	rng := rand.New(rand.NewPCG(1, 2))
	var cursor uint64 = 1
	var buf []byte
	got := 0
	for got < n {
		if ctx.Err() != nil {
			t.Fatalf("timeout: read %d of %d", got, n)
		}
		if len(window) < 20 {
			key, rec, err := s.Next(cursor, buf)
			if err == io.EOF {
				time.Sleep(50 * time.Microsecond)
			} else if err != nil {
				t.Fatal(err)
			} else {
				buf = rec
				if key < cursor {
					t.Fatalf("Next(%d) returned key %d", cursor, key)
				}
				cursor = key + 1
				p, i := int(binary.BigEndian.Uint32(rec)), int(binary.BigEndian.Uint64(rec[4:]))
				if p >= pubs || i >= n || seen[i] {
					t.Fatalf("record %d/%d (key %d) read twice or bad", p, i, key)
				}
				if i <= last[p] {
					t.Fatalf("publisher %d: record %d after %d", p, i, last[p])
				}
				last[p], seen[i] = i, true
				got++
				window = append(window, key)
				continue
			}
		}
		// Acknowledge some of the window, in random order.
		k := 1 + rng.IntN(len(window)+1)
		if k > len(window) {
			k = len(window)
		}
		rng.Shuffle(len(window), func(a, b int) { window[a], window[b] = window[b], window[a] })
		dmu.Lock()
		delQ = append(delQ, window[:k]...)
		dmu.Unlock()
		window = append(window[:0], window[k:]...)
		select {
		case delWake <- struct{}{}:
		default:
		}
	}
	wg.Wait()
	dmu.Lock()
	delQ = append(delQ, window...)
	dmu.Unlock()
	close(stopDel)
	<-delDone
	if _, _, err := s.Next(1, nil); err != io.EOF {
		t.Fatalf("store not empty at the end: %v", err)
	}
	if st := s.Stats(); st.Records != 0 {
		t.Fatalf("store stats at the end: %+v", st)
	}
}
