package network

// DefaultCacheSize is the capacity of a Cache whose Config.Size is 0.
const DefaultCacheSize = 128

// MaxCacheSize bounds Config.Size.
const MaxCacheSize = 1 << 16

// CacheConfig configures a Cache. The zero value is a cache of
// DefaultCacheSize entries.
type CacheConfig struct {
	// Size is the number of PDUs remembered; the oldest is forgotten first.
	// 0 means DefaultCacheSize; values above MaxCacheSize are clamped.
	Size int
}

// Cache is the network message cache (Mesh Protocol 1.1 §3.4.6.5): it
// remembers the last Size network PDUs by IV Index, SRC and SEQ, so that a
// PDU heard again (from another relay, or with a different TTL) is dropped
// before it is processed or relayed a second time. It is a fixed-size FIFO
// with an open-addressing index; Add and Contains do not allocate. It is
// not safe for concurrent use.
type Cache struct {
	fifo  []uint64 // insertion order, ring
	head  int      // next slot to overwrite
	count int
	table []uint64 // linear probing set; 0 = empty (keys are never 0, see key)
	mask  int
}

// NewCache returns a cache with the configured capacity. It allocates the
// cache's two arrays once.
func NewCache(cfg CacheConfig) *Cache {
	n := cfg.Size
	if n <= 0 {
		n = DefaultCacheSize
	}
	if n > MaxCacheSize {
		n = MaxCacheSize
	}
	tsize := 1
	for tsize < 2*n {
		tsize <<= 1
	}
	return &Cache{fifo: make([]uint64, n), table: make([]uint64, tsize), mask: tsize - 1}
}

// cacheKey packs the identity of a network PDU. Bit 63 is always set so that
// no key is 0.
func cacheKey(ivIndex uint32, src uint16, seq uint32) uint64 {
	return 1<<63 | uint64(ivIndex)<<40&(0x7fffff<<40) | uint64(src)<<24 | uint64(seq&0xffffff)
}

func (c *Cache) slot(k uint64) int {
	h := k * 0x9e3779b97f4a7c15
	return int(h>>40) & c.mask
}

// Contains reports whether the PDU is in the cache.
func (c *Cache) Contains(ivIndex uint32, src uint16, seq uint32) bool {
	k := cacheKey(ivIndex, src, seq)
	for i := c.slot(k); ; i = (i + 1) & c.mask {
		switch c.table[i] {
		case k:
			return true
		case 0:
			return false
		}
	}
}

// Add records the PDU and reports whether it was new (false means it is a
// duplicate that should be dropped). The oldest entry is evicted when the
// cache is full.
func (c *Cache) Add(ivIndex uint32, src uint16, seq uint32) bool {
	k := cacheKey(ivIndex, src, seq)
	i := c.slot(k)
	for ; c.table[i] != 0; i = (i + 1) & c.mask {
		if c.table[i] == k {
			return false
		}
	}
	if c.count == len(c.fifo) {
		c.remove(c.fifo[c.head])
		c.count--
		// remove may have shifted entries: find the free slot again.
		i = c.slot(k)
		for c.table[i] != 0 {
			i = (i + 1) & c.mask
		}
	}
	c.table[i] = k
	c.fifo[c.head] = k
	c.head++
	if c.head == len(c.fifo) {
		c.head = 0
	}
	c.count++
	return true
}

// remove deletes k with backward-shift deletion.
func (c *Cache) remove(k uint64) {
	i := c.slot(k)
	for c.table[i] != k {
		if c.table[i] == 0 {
			return
		}
		i = (i + 1) & c.mask
	}
	for {
		c.table[i] = 0
		j := i
		for {
			j = (j + 1) & c.mask
			if c.table[j] == 0 {
				return
			}
			home := c.slot(c.table[j])
			// Move table[j] to i if its home is not in (i, j] cyclically.
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				c.table[i] = c.table[j]
				i = j
				break
			}
		}
	}
}

// Len returns the number of cached PDUs.
func (c *Cache) Len() int { return c.count }

// Reset forgets every PDU.
func (c *Cache) Reset() {
	clear(c.table)
	clear(c.fifo)
	c.head, c.count = 0, 0
}
