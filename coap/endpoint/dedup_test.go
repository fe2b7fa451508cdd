package endpoint

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/mempool"
)

// TestDedupTableModel checks the open-addressing dedup shards against a
// list model under random churn: a key is a duplicate exactly when it is
// among the last 40 unexpired inserts of its shard.
func TestDedupTableModel(t *testing.T) {
	pool, _ := mempool.New(mempool.Config{})
	var tab dedupTable
	tab.init(40 * nShards) // 40 per shard: rings grow 16 -> 32 -> 40
	type ent struct {
		k  dedupKey
		at time.Duration
	}
	var lists [nShards][]ent
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Duration(0)
	const life = 100 * time.Millisecond
	dups := 0
	for i := 0; i < 300000; i++ {
		now += time.Duration(rng.IntN(50)) * time.Microsecond
		k := dedupKey{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))}), uint16(5000+rng.IntN(2))), coap.MessageID(rng.IntN(600))}
		sh := k.shard()
		l := lists[sh]
		for len(l) > 0 && l[0].at+life <= now {
			l = l[1:]
		}
		want := false
		for _, e := range l {
			if e.k == k {
				want = true
			}
		}
		if !want {
			if len(l) == 40 {
				l = l[1:]
			}
			l = append(l, ent{k, now})
		}
		lists[sh] = l
		dup, resp := tab.seen(k, now, life)
		if resp != nil {
			resp.Release()
		}
		if dup != want {
			t.Fatalf("op %d: seen(%v) = %v; want %v", i, k, dup, want)
		}
		if dup {
			dups++
		} else if rng.IntN(4) == 0 {
			tab.store(pool, k, []byte{1, 2, 3})
		}
	}
	if dups == 0 {
		t.Fatal("no duplicates exercised")
	}
	tab.releaseAll()
}
