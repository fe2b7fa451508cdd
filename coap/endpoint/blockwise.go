package endpoint

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/coap"
)

// requestKey hashes (FNV-1a, 64 bits) the method and the options that
// identify a request across the blocks of a block-wise transfer: all but
// Block1/2, Size1/2, Observe, No-Response and Echo (RFC 7959 §2.4, RFC
// 9175 §3.3). Request-Tag is part of the key of an upload (withTag), so
// that uploads are matched by endpoint, options and Request-Tag — never by
// token, which libcoap changes for every block.
func requestKey(m *coap.Message, withTag bool) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(m.Code)) * prime
	for _, o := range m.Options {
		switch o.ID {
		case coap.Block1, coap.Block2, coap.Size1, coap.Size2, coap.Observe, coap.NoResponse, coap.Echo:
			continue
		case coap.RequestTag:
			if !withTag {
				continue
			}
		}
		h = (h ^ uint64(o.ID&0xff)) * prime
		h = (h ^ uint64(o.ID>>8)) * prime
		h = (h ^ uint64(len(o.Value)&0xff)) * prime
		h = (h ^ uint64(len(o.Value)>>8)) * prime
		for _, c := range o.Value {
			h = (h ^ uint64(c)) * prime
		}
	}
	return h
}

// etagOf derives a 4-byte ETag from a body (FNV-1a 32).
func etagOf(b []byte) [4]byte {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return [4]byte{byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

type bodyKey struct {
	peer netip.AddrPort
	key  uint64
}

func (k bodyKey) shard() int { return int(k.key) & (nShards - 1) }

// reasm is a Block1 upload being reassembled.
type reasm struct {
	key  bodyKey
	body []byte
	last time.Duration
}

type reasmShard struct {
	mu sync.Mutex
	m  map[bodyKey]*reasm
}

type reasmTable struct {
	shards [nShards]reasmShard
	count  atomic.Int64
	bytes  atomic.Int64 // body bytes held by all uploads
}

func (t *reasmTable) init() {
	for i := range t.shards {
		t.shards[i].m = make(map[bodyKey]*reasm)
	}
}

// add appends one block. It returns the upload, or the error code to
// answer with.
func (e *Endpoint) reasmAdd(k bodyKey, b coap.Block, payload []byte) (*reasm, coap.Code) {
	t := &e.reasm
	s := &t.shards[k.shard()]
	now := e.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.m[k]
	if b.Num == 0 {
		if up == nil {
			if !reserve(&t.count, 1, int64(e.p.MaxReassemblies)) {
				return nil, coap.ServiceUnavailable
			}
			e.stats.reassemblies.Add(1)
			up = &reasm{key: k}
			s.m[k] = up
		}
		t.bytes.Add(-int64(len(up.body)))
		up.body = up.body[:0]
	} else if up == nil || len(up.body) != b.Offset() {
		// RFC 7959 §2.3: a block out of sequence.
		return nil, coap.RequestEntityIncomplete
	}
	if len(up.body)+len(payload) > e.p.MaxBodySize {
		t.drop(s, up, e)
		return nil, coap.RequestEntityTooLarge
	}
	if !reserve(&t.bytes, int64(len(payload)), int64(e.p.MaxReassemblyBytes)) {
		t.drop(s, up, e)
		return nil, coap.ServiceUnavailable // all uploads together hold too much
	}
	up.body = append(up.body, payload...)
	up.last = now
	return up, 0
}

// reserve adds n to v unless that would take it above limit, atomically:
// the uploads of all shards share v, so a check followed by an add could
// let concurrent workers overshoot the limit together.
func reserve(v *atomic.Int64, n, limit int64) bool {
	for {
		old := v.Load()
		if old+n > limit {
			return false
		}
		if v.CompareAndSwap(old, old+n) {
			return true
		}
	}
}

// drop forgets up; s is locked.
func (t *reasmTable) drop(s *reasmShard, up *reasm, e *Endpoint) {
	if s.m[up.key] != up {
		return
	}
	delete(s.m, up.key)
	t.count.Add(-1)
	t.bytes.Add(-int64(len(up.body)))
	e.stats.reassemblies.Add(-1)
}

// done forgets a completed upload.
func (t *reasmTable) done(up *reasm, e *Endpoint) {
	if up == nil {
		return
	}
	s := &t.shards[up.key.shard()]
	s.mu.Lock()
	t.drop(s, up, e)
	s.mu.Unlock()
}

func (t *reasmTable) expire(now, timeout time.Duration, e *Endpoint) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for _, up := range s.m {
			if now-up.last >= timeout {
				t.drop(s, up, e)
			}
		}
		s.mu.Unlock()
	}
}

// block1 processes a Block1 request block (RFC 7959 §2.5). It answers
// intermediate blocks and errors itself and returns done=true only with
// the complete body.
func (w *worker) block1(peer netip.AddrPort, b coap.Block) (*reasm, bool) {
	e := w.e
	m := &w.in
	if v, ok := m.Uint(coap.Size1); ok && int64(v) > int64(e.p.MaxBodySize) {
		w.reject413(peer)
		return nil, false
	}
	if b.More && len(m.Payload) != b.Size() {
		w.reject(peer, coap.BadRequest)
		return nil, false
	}
	up, code := e.reasmAdd(bodyKey{peer, requestKey(m, true)}, b, m.Payload)
	if code == coap.RequestEntityTooLarge {
		w.reject413(peer)
		return nil, false
	}
	if code != 0 {
		w.reject(peer, code)
		return nil, false
	}
	if !b.More {
		return up, true
	}
	// 2.31 Continue, with our (possibly smaller) block size (§2.3).
	szx := b.SZX
	if szx > e.p.szx {
		szx = e.p.szx
	}
	w.rw.reset(m, peer)
	w.rw.SetCode(coap.Continue)
	w.rw.msg.SetBlock1(coap.Block{Num: uint32(b.Offset() / (16 << szx)), More: true, SZX: szx})
	w.respond(peer)
	return nil, false
}

func (w *worker) reject413(peer netip.AddrPort) {
	w.rw.reset(&w.in, peer)
	w.rw.SetCode(coap.RequestEntityTooLarge)
	w.rw.msg.SetUint(coap.Size1, uint32(w.e.p.MaxBodySize))
	w.respond(peer)
}

// sliceBlock2 sets the payload of the response in w.rw: the whole body,
// or the block the request asked for (RFC 7959 §2.4), with Block2, Size2
// and an ETag, caching a multi-block body for the follow-up requests.
func (w *worker) sliceBlock2(peer netip.AddrPort, body []byte, has2 bool, b2 coap.Block) error {
	e := w.e
	resp := &w.rw.msg
	szx := e.p.szx
	if has2 && b2.SZX < szx {
		szx = b2.SZX
	}
	size := 16 << szx
	if (!has2 || resp.Code == coap.Continue || !resp.Code.IsSuccess()) && len(body) <= size {
		resp.Payload = body
		return nil
	}
	offset := 0
	if has2 {
		offset = b2.Offset()
	}
	if offset > len(body) || (offset == len(body) && offset > 0) {
		return coap.ErrBlock
	}
	end := min(offset+size, len(body))
	more := end < len(body)
	resp.SetBlock2(coap.Block{Num: uint32(offset / size), More: more, SZX: szx})
	if offset == 0 || w.in.HasOption(coap.Size2) {
		resp.SetUint(coap.Size2, uint32(len(body)))
	}
	if !resp.HasOption(coap.ETag) {
		tag := etagOf(body)
		resp.AddOptionCopy(coap.ETag, tag[:])
	}
	resp.Payload = body[offset:end]
	if (more || offset > 0) && !w.rw.fromCache && resp.Code.IsSuccess() {
		e.blocks.put(e, bodyKey{peer, requestKey(&w.in, false)}, resp, body)
	}
	return nil
}

// serveCachedBlock answers a Block2 follow-up from the cache; false if
// the body is not cached (the handler then runs again).
func (w *worker) serveCachedBlock(peer netip.AddrPort, b2 coap.Block) bool {
	e := w.e
	en := e.blocks.get(bodyKey{peer, requestKey(&w.in, false)}, e.now())
	if en == nil {
		return false
	}
	rw := &w.rw
	rw.reset(&w.in, peer)
	en.msg.CloneInto(&rw.msg)
	rw.codeSet = true
	rw.body = append(rw.body[:0], en.body...)
	rw.fromCache = true
	w.respond(peer)
	return true
}

type blockEntry struct {
	msg     *coap.Message // code and options of the response, without Block2/Size2
	body    []byte
	expires time.Duration
	refs    atomic.Int32 // keys sharing the entry (one notification, many observers)
}

type blockShard struct {
	mu sync.Mutex
	m  map[bodyKey]*blockEntry
}

// blockCache keeps multi-block response bodies for their follow-up
// requests, bounded in count and time.
type blockCache struct {
	shards [nShards]blockShard
	count  atomic.Int64
	bytes  atomic.Int64 // body bytes of distinct cached entries
}

func (c *blockCache) init() {
	for i := range c.shards {
		c.shards[i].m = make(map[bodyKey]*blockEntry)
	}
}

func (c *blockCache) put(e *Endpoint, k bodyKey, resp *coap.Message, body []byte) {
	c.putEntry(e, k, newBlockEntry(e, resp, body))
}

// newBlockEntry copies a response's code, options and body for the cache.
func newBlockEntry(e *Endpoint, resp *coap.Message, body []byte) *blockEntry {
	msg := resp.Clone()
	msg.RemoveOption(coap.Block2)
	msg.RemoveOption(coap.Size2)
	msg.RemoveOption(coap.Observe)
	msg.Payload = nil
	return &blockEntry{msg: msg, body: append([]byte(nil), body...), expires: e.now() + e.p.ReassemblyTimeout}
}

// putEntry caches en (which several keys may share: it is immutable)
// under k, replacing an older body; when the cache is full a new key is
// not cached and its follow-ups run the handler again.
func (c *blockCache) putEntry(e *Endpoint, k bodyKey, en *blockEntry) {
	s := &c.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[k]
	if !ok {
		if c.count.Load() >= int64(e.p.MaxBlockCache) {
			return
		}
	}
	if en.refs.Load() == 0 && c.bytes.Load()+int64(len(en.body)) > int64(e.p.MaxBlockCacheBytes) {
		return // follow-ups run the handler again
	}
	if ok {
		c.unref(old)
	} else {
		c.count.Add(1)
	}
	if en.refs.Add(1) == 1 {
		c.bytes.Add(int64(len(en.body)))
	}
	s.m[k] = en
}

// unref drops one key's reference to en.
func (c *blockCache) unref(en *blockEntry) {
	if en.refs.Add(-1) == 0 {
		c.bytes.Add(-int64(len(en.body)))
	}
}

func (c *blockCache) get(k bodyKey, now time.Duration) *blockEntry {
	s := &c.shards[k.shard()]
	s.mu.Lock()
	defer s.mu.Unlock()
	en := s.m[k]
	if en == nil || en.expires <= now {
		return nil
	}
	return en
}

func (c *blockCache) expire(now time.Duration) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, en := range s.m {
			if en.expires <= now {
				delete(s.m, k)
				c.count.Add(-1)
				c.unref(en)
			}
		}
		s.mu.Unlock()
	}
}

func (c *blockCache) releaseAll() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
	c.count.Store(0)
	c.bytes.Store(0)
}
