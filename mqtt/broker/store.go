package broker

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgekit/edgekit/internal/wal"
	"github.com/edgekit/edgekit/mqtt"
)

// Store is the persistence hook: a small key-value store the broker writes
// its durable state to (sessions with their subscriptions, retained
// messages, queued and in-flight QoS 1/2 messages, inbound QoS 2 packet
// identifiers awaiting PUBREL) and reads back in New. Keys and values are
// opaque to the store. Put replaces the value of an existing key. A Store
// must be safe for concurrent use; the broker calls it synchronously, so a
// returned Put or Delete is as durable as the store promises.
type Store interface {
	// Load calls fn for every stored key with its value; both slices are
	// valid only during the call.
	Load(fn func(key, value []byte) error) error
	Put(key, value []byte) error
	Delete(key []byte) error
}

// SyncPolicy selects when a FileStore's writes reach stable storage.
type SyncPolicy uint8

const (
	// SyncInterval syncs every FileStoreConfig.SyncInterval (default
	// 100 ms): a crash of the process loses nothing written, a power loss
	// at most about one interval.
	SyncInterval SyncPolicy = iota
	// SyncAlways syncs before every Put or Delete returns (group commit).
	SyncAlways
	// SyncNever leaves write-back to the operating system.
	SyncNever
)

// FileStoreConfig configures NewFileStore. The zero value is a safe
// default: sync every 100 ms, at most 256 MiB of live records.
type FileStoreConfig struct {
	Sync         SyncPolicy
	SyncInterval time.Duration
	// MaxBytes bounds the live data; Put fails beyond it.
	MaxBytes int64
}

// FileStore is a Store on edgekit's durable log (CRC per record, fsync
// policy, compaction, torn-tail recovery) in one directory. It is safe for
// concurrent use. One process at a time may open a directory.
type FileStore struct {
	mu   sync.Mutex
	log  *wal.Log
	offs map[string]uint64
	buf  []byte
}

// ErrStoreClosed is returned by a FileStore after Close.
var ErrStoreClosed = errors.New("broker: store closed")

// NewFileStore opens (or creates) a FileStore in dir.
func NewFileStore(dir string, cfg FileStoreConfig) (*FileStore, error) {
	wc := wal.Config{MaxBytes: cfg.MaxBytes, Full: wal.FullFail, SegmentSize: 4 << 20}
	switch cfg.Sync {
	case SyncAlways:
		wc.Sync = wal.SyncAlways
	case SyncNever:
		wc.Sync = wal.SyncNever
	default:
		wc.Sync = wal.SyncInterval
		wc.SyncInterval = cfg.SyncInterval
	}
	l, err := wal.Open(dir, wc)
	if err != nil {
		return nil, err
	}
	fs := &FileStore{log: l, offs: make(map[string]uint64)}
	r := l.NewReader(0)
	var stale []uint64
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, wal.ErrCorrupt) {
				continue
			}
			l.Close()
			return nil, err
		}
		k, _, ok := splitRecord(rec.Data)
		if !ok {
			stale = append(stale, rec.Offset)
			continue
		}
		if old, ok := fs.offs[string(k)]; ok { // a crash between a write and its tombstone
			stale = append(stale, old)
		}
		fs.offs[string(k)] = rec.Offset
	}
	if len(stale) > 0 {
		if err := l.DeleteBatch(context.Background(), stale); err != nil {
			l.Close()
			return nil, err
		}
	}
	return fs, nil
}

func splitRecord(d []byte) (key, val []byte, ok bool) {
	n, w := binary.Uvarint(d)
	if w <= 0 || uint64(len(d)-w) < n {
		return nil, nil, false
	}
	return d[w : w+int(n)], d[w+int(n):], true
}

// Load implements Store.
func (fs *FileStore) Load(fn func(key, value []byte) error) error {
	fs.mu.Lock()
	offs := make([]uint64, 0, len(fs.offs))
	for _, o := range fs.offs {
		offs = append(offs, o)
	}
	fs.mu.Unlock()
	slices.Sort(offs)
	var buf []byte
	for _, o := range offs {
		rec, err := fs.log.Get(o, buf)
		if err != nil {
			if errors.Is(err, wal.ErrNotFound) {
				continue
			}
			return err
		}
		buf = rec.Data
		k, v, ok := splitRecord(rec.Data)
		if !ok {
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Put implements Store.
func (fs *FileStore) Put(key, value []byte) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.log == nil {
		return ErrStoreClosed
	}
	b := binary.AppendUvarint(fs.buf[:0], uint64(len(key)))
	b = append(append(b, key...), value...)
	fs.buf = b
	ctx := context.Background()
	var off uint64
	var err error
	if old, ok := fs.offs[string(key)]; ok {
		off, err = fs.log.Replace(ctx, old, b, wal.AppendOptions{})
	} else {
		off, err = fs.log.Append(ctx, b, wal.AppendOptions{})
	}
	if err != nil {
		return err
	}
	fs.offs[string(key)] = off
	return nil
}

// Delete implements Store.
func (fs *FileStore) Delete(key []byte) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.log == nil {
		return ErrStoreClosed
	}
	off, ok := fs.offs[string(key)]
	if !ok {
		return nil
	}
	delete(fs.offs, string(key))
	return fs.log.Delete(context.Background(), off)
}

// Len returns the number of keys stored.
func (fs *FileStore) Len() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.offs)
}

// Close syncs and closes the store.
func (fs *FileStore) Close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.log == nil {
		return nil
	}
	err := fs.log.Close()
	fs.log = nil
	return err
}

// Record keys: "s/<client>" session, "r/<topic>" retained message,
// "q/<client>\x00<seq>" queued or in-flight message, "i/<client>\x00<id>"
// inbound QoS 2 identifier awaiting PUBREL.
func sessionKey(id string) []byte   { return []byte("s/" + id) }
func retainKey(topic string) []byte { return []byte("r/" + topic) }
func queueKey(id string, seq uint64) []byte {
	return strconv.AppendUint([]byte("q/"+id+"\x00"), seq, 10)
}
func inKey(id string, pid mqtt.PacketID) []byte {
	return strconv.AppendUint([]byte("i/"+id+"\x00"), uint64(pid), 10)
}

func (b *Broker) storePut(key, val []byte) {
	if b.cfg.Store == nil {
		return
	}
	if err := b.cfg.Store.Put(key, val); err != nil {
		b.log.Error("mqtt broker: store put", "key", string(key), "err", err)
	}
}

func (b *Broker) storeDelete(key []byte) {
	if b.cfg.Store == nil {
		return
	}
	if err := b.cfg.Store.Delete(key); err != nil {
		b.log.Error("mqtt broker: store delete", "key", string(key), "err", err)
	}
}

// storeSession writes s's expiry and subscriptions, or deletes the record
// of a session that ends with its connection.
func (b *Broker) storeSession(s *session) {
	if b.cfg.Store == nil {
		return
	}
	b.mu.RLock()
	s.mu.Lock()
	expiry := s.expiry
	s.mu.Unlock()
	if expiry == 0 || s.gone {
		b.mu.RUnlock()
		b.storeDelete(sessionKey(s.id))
		return
	}
	v := binary.BigEndian.AppendUint32(nil, expiry)
	v = binary.BigEndian.AppendUint64(v, uint64(b.cfg.Now().Unix()))
	for _, sub := range s.subs {
		opts := sub.qos | b2u(sub.noLocal)<<2 | b2u(sub.rap)<<3 | sub.rh<<4
		v = append(v, opts)
		v = binary.BigEndian.AppendUint32(v, sub.id)
		v = binary.BigEndian.AppendUint16(v, uint16(len(sub.filter)))
		v = append(v, sub.filter...)
	}
	b.mu.RUnlock()
	b.storePut(sessionKey(s.id), v)
}

func b2u(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// encodeMsg is the stored form of a message: state, id, expiry, then the
// message as an MQTT 5 PUBLISH carrying the subscription identifiers.
func encodeMsg(state byte, id mqtt.PacketID, qos uint8, retain bool, subIDs []uint32, m *message) []byte {
	p := mqtt.Publish{Version: mqtt.V5, QoS: qos, Retain: retain, Topic: m.topic, Payload: m.payload, Props: m.props}
	if qos > 0 {
		p.ID = 1
	}
	p.Props.SubscriptionIDs = subIDs
	v := []byte{state}
	v = binary.BigEndian.AppendUint16(v, uint16(id))
	v = binary.BigEndian.AppendUint64(v, uint64(m.expires))
	v, _ = p.AppendBinary(v)
	return v
}

func decodeMsg(v []byte) (state byte, id mqtt.PacketID, o outMsg, ok bool) {
	if len(v) < 11 {
		return 0, 0, o, false
	}
	state, id = v[0], mqtt.PacketID(binary.BigEndian.Uint16(v[1:]))
	exp := int64(binary.BigEndian.Uint64(v[3:]))
	p := mqtt.Publish{Version: mqtt.V5}
	if _, err := p.Decode(v[11:]); err != nil {
		return 0, 0, o, false
	}
	m := newMessage(&p, nil, time.Unix(0, 0))
	m.expires = exp
	o = outMsg{m: m, qos: p.QoS, retain: p.Retain}
	if len(p.Props.SubscriptionIDs) > 0 {
		o.subIDs = append([]uint32(nil), p.Props.SubscriptionIDs...)
	}
	return state, id, o, true
}

// storeOut writes a queued or in-flight message of s. Called with s.mu held.
func (b *Broker) storeOut(s *session, o *outMsg) {
	state := byte(0)
	switch {
	case o.pubrel:
		state = 2
	case o.id != 0:
		state = 1
	}
	b.storePut(queueKey(s.id, o.key), encodeMsg(state, o.id, o.qos, o.retain, o.subIDs, o.m))
}

// storeRetained writes a retained message.
func (b *Broker) storeRetained(m *message) {
	if b.cfg.Store == nil || strings.HasPrefix(string(m.topic), "$SYS/") {
		return
	}
	b.storePut(retainKey(string(m.topic)), encodeMsg(0, 0, m.qos, true, nil, m))
}

// restore rebuilds sessions, subscriptions, retained messages and message
// state from the Store. Restored sessions are disconnected; their expiry
// timers start now.
func (b *Broker) restore() error {
	type qrec struct {
		seq   uint64
		state byte
		id    mqtt.PacketID
		o     outMsg
	}
	queues := make(map[string][]qrec)
	inIDs := make(map[string][]mqtt.PacketID)
	err := b.cfg.Store.Load(func(k, v []byte) error {
		key := string(k)
		switch {
		case strings.HasPrefix(key, "s/"):
			id := key[2:]
			if len(v) < 12 {
				return nil
			}
			s := b.sessions[id]
			if s == nil {
				s = b.newSessionLocked(id)
			}
			s.expiry = binary.BigEndian.Uint32(v)
			v = v[12:]
			for len(v) >= 7 {
				opts := v[0]
				sid := binary.BigEndian.Uint32(v[1:])
				n := int(binary.BigEndian.Uint16(v[5:]))
				if len(v) < 7+n {
					break
				}
				filter := string(v[7 : 7+n])
				v = v[7+n:]
				sub := &subscription{s: s, filter: filter, qos: opts & 3, noLocal: opts&4 != 0,
					rap: opts&8 != 0, rh: opts >> 4 & 3, id: sid}
				if g, _, err := mqtt.ParseShared([]byte(filter)); err == nil && g != nil {
					sub.group = string(g)
				}
				b.subscribeLocked(s, sub)
			}
		case strings.HasPrefix(key, "r/"):
			_, _, o, ok := decodeMsg(v)
			if !ok {
				return nil
			}
			b.retained[string(o.m.topic)] = o.m
			o.m.retain = true
			b.rbytes += o.m.size
		case strings.HasPrefix(key, "q/"), strings.HasPrefix(key, "i/"):
			rest := key[2:]
			i := strings.LastIndexByte(rest, 0)
			if i < 0 {
				return nil
			}
			id := rest[:i]
			n, err := strconv.ParseUint(rest[i+1:], 10, 64)
			if err != nil {
				return nil
			}
			if key[0] == 'i' {
				inIDs[id] = append(inIDs[id], mqtt.PacketID(n))
				return nil
			}
			state, pid, o, ok := decodeMsg(v)
			if !ok {
				return nil
			}
			o.key = n
			queues[id] = append(queues[id], qrec{n, state, pid, o})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, recs := range queues {
		s := b.sessions[id]
		if s == nil {
			for _, r := range recs {
				b.storeDelete(queueKey(id, r.seq))
			}
			continue
		}
		slices.SortFunc(recs, func(x, y qrec) int {
			switch {
			case x.seq < y.seq:
				return -1
			case x.seq > y.seq:
				return 1
			}
			return 0
		})
		for _, r := range recs {
			s.storeSeq = max(s.storeSeq, r.seq)
			o := r.o
			if r.state > 0 && o.qos == 2 {
				o.id = r.id
				o.pubrel = r.state == 2
				op := new(outMsg)
				*op = o
				s.inflight = append(s.inflight, op)
				s.nextID = max(s.nextID, o.id)
				continue
			}
			s.q = append(s.q, o)
			s.qbytes += o.m.size
		}
	}
	for id, ids := range inIDs {
		s := b.sessions[id]
		if s == nil {
			for _, pid := range ids {
				b.storeDelete(inKey(id, pid))
			}
			continue
		}
		s.inQoS2 = make(map[mqtt.PacketID]struct{})
		for _, pid := range ids {
			s.inQoS2[pid] = struct{}{}
		}
	}
	for _, s := range b.sessions {
		s := s
		s.expTimer = time.AfterFunc(time.Duration(s.expiry)*time.Second, func() { b.expire(s) })
	}
	return nil
}
