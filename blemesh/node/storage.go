package node

// Storage persists what a node must not forget across a reboot: the
// sequence number (as an upper bound reserved in blocks, so that flash is
// written once per [Config.SeqBlock] messages and not once per message) and
// the replay protection list. Implementations may buffer writes; the node
// calls them from its own goroutine only, on the per-PDU path for
// StoreReplay, so they should not allocate or block for long.
type Storage interface {
	// LoadSeq returns the persisted IV Index and sequence-number limit;
	// ok is false when nothing was stored.
	LoadSeq() (ivIndex, seqLimit uint32, ok bool, err error)
	// StoreSeq persists a limit no sequence number sent so far reaches:
	// after a reboot the node continues from seqLimit.
	StoreSeq(ivIndex, seqLimit uint32) error
	// StoreReplay records the newest SeqAuth accepted from src.
	StoreReplay(src uint16, seqAuth uint64) error
	// LoadReplay appends the persisted replay list to dst.
	LoadReplay(dst []ReplayEntry) ([]ReplayEntry, error)
}

// ReplayEntry is one source of the persisted replay protection list.
type ReplayEntry struct {
	SRC     uint16
	SeqAuth uint64
}

// MemStorage is a Storage in memory that counts writes, for tests and for
// firmware that wraps it with its own flash driver. Not safe for concurrent
// use.
type MemStorage struct {
	IVIndex, SeqLimit uint32
	HasSeq            bool
	Replay            []ReplayEntry
	SeqWrites         int
	ReplayWrites      int
}

// LoadSeq implements Storage.
func (m *MemStorage) LoadSeq() (uint32, uint32, bool, error) {
	return m.IVIndex, m.SeqLimit, m.HasSeq, nil
}

// StoreSeq implements Storage.
func (m *MemStorage) StoreSeq(iv, limit uint32) error {
	m.IVIndex, m.SeqLimit, m.HasSeq = iv, limit, true
	m.SeqWrites++
	return nil
}

// StoreReplay implements Storage. A new source grows the list.
func (m *MemStorage) StoreReplay(src uint16, seqAuth uint64) error {
	m.ReplayWrites++
	for i := range m.Replay {
		if m.Replay[i].SRC == src {
			m.Replay[i].SeqAuth = seqAuth
			return nil
		}
	}
	m.Replay = append(m.Replay, ReplayEntry{SRC: src, SeqAuth: seqAuth})
	return nil
}

// LoadReplay implements Storage.
func (m *MemStorage) LoadReplay(dst []ReplayEntry) ([]ReplayEntry, error) {
	return append(dst, m.Replay...), nil
}
