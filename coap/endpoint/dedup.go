package endpoint

import (
	"net/netip"
	"sync"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/mempool"
)

// dedupKey identifies a received CON or NON message (RFC 7252 §4.5).
type dedupKey struct {
	peer netip.AddrPort
	mid  coap.MessageID
}

func (k dedupKey) shard() int { return int(uint16(k.mid)^k.peer.Port()) & (nShards - 1) }

type dedupEntry struct {
	key     dedupKey
	expires time.Duration
	resp    *mempool.Buf // the response (or empty ACK) to repeat; nil if none yet
}

// dedupShard remembers message ids in arrival order in a ring that grows
// up to its limit and then forgets the oldest. The ring is indexed by an open-addressing
// table (linear probing, backward-shift deletion: no tombstones) twice its
// size, so the shard never allocates after init and lookups stay short
// under constant churn.
type dedupShard struct {
	mu   sync.Mutex
	idx  []int32 // ring slot + 1; 0 = empty
	mask uint32
	ring []dedupEntry
	head int
	n    int
	max  int // ring capacity limit: this shard's share of MaxDedup
}

func (k dedupKey) hash() uint32 {
	a := k.peer.Addr().As16()
	hi := uint64(a[0])<<56 | uint64(a[1])<<48 | uint64(a[2])<<40 | uint64(a[3])<<32 |
		uint64(a[4])<<24 | uint64(a[5])<<16 | uint64(a[6])<<8 | uint64(a[7])
	lo := uint64(a[8])<<56 | uint64(a[9])<<48 | uint64(a[10])<<40 | uint64(a[11])<<32 |
		uint64(a[12])<<24 | uint64(a[13])<<16 | uint64(a[14])<<8 | uint64(a[15])
	h := hi*0x9e3779b97f4a7c15 ^ lo*0xc2b2ae3d27d4eb4f ^ uint64(k.peer.Port())<<16 ^ uint64(k.mid)
	h *= 0xff51afd7ed558ccd
	return uint32(h >> 32)
}

// find returns the idx position holding k, or -1.
func (s *dedupShard) find(k dedupKey) int {
	for i := k.hash() & s.mask; ; i = (i + 1) & s.mask {
		v := s.idx[i]
		if v == 0 {
			return -1
		}
		if s.ring[v-1].key == k {
			return int(i)
		}
	}
}

func (s *dedupShard) insert(k dedupKey, slot int) {
	i := k.hash() & s.mask
	for s.idx[i] != 0 {
		i = (i + 1) & s.mask
	}
	s.idx[i] = int32(slot + 1)
}

// deleteAt empties idx position i and shifts later entries of the probe
// run back (Knuth 6.4 algorithm R).
func (s *dedupShard) deleteAt(i uint32) {
	for {
		s.idx[i] = 0
		j := i
		for {
			j = (j + 1) & s.mask
			v := s.idx[j]
			if v == 0 {
				return
			}
			h := s.ring[v-1].key.hash() & s.mask
			// Move v to i if its home h is not cyclically in (i, j].
			if (i <= j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
				s.idx[i] = v
				i = j
				break
			}
		}
	}
}

type dedupTable struct {
	shards [nShards]dedupShard
}

// dedupInitial is the starting ring size of a shard; rings double up to
// their share of Config.MaxDedup as traffic needs, so an idle or
// client-only endpoint stays small.
const dedupInitial = 16

func (t *dedupTable) init(max int) {
	per := max / nShards
	if per < dedupInitial {
		per = dedupInitial
	}
	for i := range t.shards {
		s := &t.shards[i]
		s.max = per
		s.resize(min(dedupInitial, per))
	}
}

// resize sets the ring capacity to n (>= s.n), keeping the entries in
// order, and rebuilds the index at twice the size (a power of two).
func (s *dedupShard) resize(n int) {
	ring := make([]dedupEntry, n)
	for j := 0; j < s.n; j++ {
		ring[j] = s.ring[(s.head+j)%len(s.ring)]
	}
	size := 1
	for size < 2*n {
		size <<= 1
	}
	s.ring, s.head = ring, 0
	s.idx = make([]int32, size)
	s.mask = uint32(size - 1)
	for j := 0; j < s.n; j++ {
		s.insert(ring[j].key, j)
	}
}

// seen records k and reports whether it was already there. For a
// duplicate, resp is the cached reply (retained: the caller releases it),
// or nil if the first copy is still being served or needs no reply.
func (t *dedupTable) seen(k dedupKey, now, lifetime time.Duration) (dup bool, resp *mempool.Buf) {
	s := &t.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.n > 0 && s.ring[s.head].expires <= now {
		s.evictHead()
	}
	if p := s.find(k); p >= 0 {
		// Live: expired entries were evicted above (entries expire in
		// ring order up to the NON/CON lifetime difference).
		if en := &s.ring[s.idx[p]-1]; en.expires > now {
			if en.resp != nil {
				en.resp.Retain()
			}
			return true, en.resp
		}
		s.deleteAt(uint32(p))
	}
	if s.n == len(s.ring) {
		if len(s.ring) < s.max {
			s.resize(min(2*len(s.ring), s.max))
		} else {
			s.evictHead()
		}
	}
	i := (s.head + s.n) % len(s.ring)
	s.ring[i] = dedupEntry{key: k, expires: now + lifetime}
	s.insert(k, i)
	s.n++
	return false, nil
}

// store caches a copy of b as the reply to k, if k is still remembered.
func (t *dedupTable) store(pool *mempool.Pool, k dedupKey, b []byte) {
	s := &t.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(k)
	if p < 0 {
		return
	}
	en := &s.ring[s.idx[p]-1]
	if en.resp != nil {
		en.resp.Release()
	}
	buf := pool.Get(len(b))
	copy(buf.B, b)
	en.resp = buf
}

func (s *dedupShard) evictHead() {
	en := &s.ring[s.head]
	if p := s.find(en.key); p >= 0 && int(s.idx[p]-1) == s.head {
		s.deleteAt(uint32(p))
	}
	if en.resp != nil {
		en.resp.Release()
	}
	*en = dedupEntry{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
}

func (t *dedupTable) releaseAll() {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for s.n > 0 {
			s.evictHead()
		}
		s.mu.Unlock()
	}
}
