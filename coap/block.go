package coap

// Block is the value of a Block1 or Block2 option (RFC 7959 §2.2): block
// number, more flag and size exponent. Size is 16 << SZX bytes; SZX 7 is
// reserved over UDP (it means BERT over TCP) and rejected.
type Block struct {
	Num  uint32 // block number, below 1<<20
	More bool   // M: more blocks follow (Block1 request, Block2 response)
	SZX  uint8  // size exponent 0..6: 16..1024 bytes
}

// MaxBlockNum is the largest block number a 3-byte option carries.
const MaxBlockNum = 1<<20 - 1

// ParseBlock decodes a Block option's uint value.
func ParseBlock(v uint32) (Block, error) {
	b := Block{Num: v >> 4, More: v&8 != 0, SZX: uint8(v & 7)}
	if b.SZX == 7 || b.Num > MaxBlockNum {
		return Block{}, ErrBlock
	}
	return b, nil
}

// Uint returns the option value of b.
func (b Block) Uint() uint32 {
	v := b.Num<<4 | uint32(b.SZX&7)
	if b.More {
		v |= 8
	}
	return v
}

// Size returns the block size in bytes.
func (b Block) Size() int { return 16 << (b.SZX & 7) }

// Offset returns the byte offset of the block: Num * Size.
func (b Block) Offset() int { return int(b.Num) * b.Size() }

// SZXFor returns the largest size exponent whose block size does not
// exceed size (at least 0, at most 6).
func SZXFor(size int) uint8 {
	var s uint8
	for s < 6 && 32<<s <= size {
		s++
	}
	return s
}
