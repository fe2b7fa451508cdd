package transport

// DefaultReplayListSize is the capacity of a ReplayList whose Config.Size
// is 0.
const DefaultReplayListSize = 256

// ReplayConfig configures a ReplayList. The zero value holds
// DefaultReplayListSize sources.
type ReplayConfig struct {
	// Size is the number of source addresses remembered (1..32767). When
	// it is full, messages from new sources are rejected (Mesh Protocol 1.1
	// §3.11.8).
	Size int
}

type rplEntry struct {
	src     uint16 // 0 = empty slot
	seqAuth uint64 // IV Index << 24 | SEQ (or SeqAuth of a segmented message)
}

// ReplayList is the replay protection list (Mesh Protocol 1.1 §3.11.8):
// for each unicast source it keeps the highest IV Index and sequence number
// accepted, and rejects any message that is not newer. Segmented messages are
// checked with their SeqAuth, so a retransmitted segment of the message being
// reassembled is not a replay. Check and Accept do not allocate. It is not
// safe for concurrent use.
type ReplayList struct {
	table []rplEntry
	mask  int
	n     int
	max   int
}

// NewReplayList allocates a list of the configured size.
func NewReplayList(cfg ReplayConfig) *ReplayList {
	n := cfg.Size
	if n <= 0 {
		n = DefaultReplayListSize
	}
	if n > 0x7fff {
		n = 0x7fff
	}
	t := 1
	for t < 2*n {
		t <<= 1
	}
	return &ReplayList{table: make([]rplEntry, t), mask: t - 1, max: n}
}

func (r *ReplayList) find(src uint16) int {
	i := int(uint32(src)*0x9e3779b1>>16) & r.mask
	for r.table[i].src != 0 && r.table[i].src != src {
		i = (i + 1) & r.mask
	}
	return i
}

// Check reports whether a message from src with the given SeqAuth (use
// uint64(ivIndex)<<24|seq for unsegmented messages) is new: newer than
// everything accepted from src, and src fits in the list.
func (r *ReplayList) Check(src uint16, seqAuth uint64) bool {
	if src == 0 || src&0x8000 != 0 {
		return false // only unicast sources
	}
	e := &r.table[r.find(src)]
	if e.src == 0 {
		return r.n < r.max
	}
	return seqAuth > e.seqAuth
}

// Accept records seqAuth as the newest message from src. It returns false
// (and records nothing) when Check would have rejected it.
func (r *ReplayList) Accept(src uint16, seqAuth uint64) bool {
	if !r.Check(src, seqAuth) {
		return false
	}
	e := &r.table[r.find(src)]
	if e.src == 0 {
		e.src = src
		r.n++
	}
	e.seqAuth = seqAuth
	return true
}

// Len returns the number of sources in the list.
func (r *ReplayList) Len() int { return r.n }

// Get returns the SeqAuth recorded for src.
func (r *ReplayList) Get(src uint16) (seqAuth uint64, ok bool) {
	if src == 0 {
		return 0, false
	}
	e := r.table[r.find(src)]
	return e.seqAuth, e.src != 0
}

// DropBefore forgets every source whose newest message has an IV Index
// below ivIndex, as a node may do once the IV Index has moved on by two
// (Mesh Protocol 1.1 §3.11.5).
func (r *ReplayList) DropBefore(ivIndex uint32) {
	old := make([]rplEntry, 0, r.n)
	for _, e := range r.table {
		if e.src != 0 && e.seqAuth>>24 >= uint64(ivIndex) {
			old = append(old, e)
		}
	}
	clear(r.table)
	r.n = 0
	for _, e := range old {
		r.table[r.find(e.src)] = e
		r.n++
	}
}

// Reset empties the list.
func (r *ReplayList) Reset() { clear(r.table); r.n = 0 }
