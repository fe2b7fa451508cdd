package mqtt

import (
	"errors"
	"io"
)

// DefaultMaxPacketSize bounds the total size of a packet a Framer reads
// when FramerConfig.MaxPacketSize is zero: 64 KiB, not the protocol's
// 256 MiB, so a hostile remaining length cannot make a reader allocate.
const DefaultMaxPacketSize = 64 << 10

// defaultReadBuffer is the initial size of a Framer's read buffer.
const defaultReadBuffer = 2048

// Role says which end of a connection a Framer reads for, so that it can
// enforce the rules that depend on the direction of flow (§2.1.2, Table
// 2-1, and the first-packet rules of §3.1 and §3.2).
type Role uint8

const (
	// RoleAny checks no direction rules (a proxy, a capture tool).
	RoleAny Role = iota
	// RoleServer reads what a client sends: CONNECT first and only once
	// [MQTT-3.1.0-1] [MQTT-3.1.0-2], no CONNACK, SUBACK, UNSUBACK or
	// PINGRESP, no subscription identifier in PUBLISH [MQTT-3.3.4-6].
	RoleServer
	// RoleClient reads what a server sends: CONNACK (or, under MQTT 5, AUTH)
	// first [MQTT-3.2.0-1], no CONNECT, SUBSCRIBE, UNSUBSCRIBE or PINGREQ,
	// and under MQTT 3.1.1 no DISCONNECT.
	RoleClient
)

// flowsTo[t] has bit RoleServer when a client may send t, bit RoleClient
// when a server may (Table 2-1). DISCONNECT from a server is MQTT 5 only.
var flowsTo = [16]uint8{
	TypeConnect:     1 << RoleServer,
	TypeConnack:     1 << RoleClient,
	TypePublish:     1<<RoleServer | 1<<RoleClient,
	TypePuback:      1<<RoleServer | 1<<RoleClient,
	TypePubrec:      1<<RoleServer | 1<<RoleClient,
	TypePubrel:      1<<RoleServer | 1<<RoleClient,
	TypePubcomp:     1<<RoleServer | 1<<RoleClient,
	TypeSubscribe:   1 << RoleServer,
	TypeSuback:      1 << RoleClient,
	TypeUnsubscribe: 1 << RoleServer,
	TypeUnsuback:    1 << RoleClient,
	TypePingreq:     1 << RoleServer,
	TypePingresp:    1 << RoleClient,
	TypeDisconnect:  1<<RoleServer | 1<<RoleClient,
	TypeAuth:        1<<RoleServer | 1<<RoleClient,
}

// FramerConfig configures a [Framer]. The zero value is a safe default.
type FramerConfig struct {
	// Role enables the direction-of-flow checks for a server or a client;
	// the zero value checks none.
	Role Role
	// MaxPacketSize bounds the total length (fixed header included) of a
	// packet read; larger packets fail with ErrPacketTooLarge before their
	// body is read or buffered. 0 means DefaultMaxPacketSize. Values above
	// the protocol maximum are clamped to it.
	MaxPacketSize int
	// Version is the protocol version used to decode packets until a CONNECT
	// is read or written (which sets it). 0 means MQTT 3.1.1.
	Version Version
	// ReadBufferSize is the initial size of the read buffer, which grows up
	// to MaxPacketSize as larger packets arrive. 0 means 2 KiB.
	ReadBufferSize int
}

// Framer reads and writes MQTT packets on a byte stream, with one reusable
// buffer each way. It is not safe for concurrent use, except that one
// goroutine may read while another writes. Each Write method performs
// exactly one Write on the underlying writer. Packets returned by the read
// methods alias the read buffer and are valid until the next read.
type Framer struct {
	r        io.Reader
	w        io.Writer
	max      int
	role     Role
	started  bool    // a first packet passed the role's first-packet rule
	rversion Version // version for decoding reads
	peerMax  int     // write limit from the peer's Maximum Packet Size; 0: none

	rbuf       []byte
	rpos, rend int
	rerr       error

	wbuf []byte
	set  *Decoded // for ReadPacket; allocated on first use
}

// NewFramer returns a Framer reading from r and writing to w (either may be
// nil if that direction is unused).
func NewFramer(r io.Reader, w io.Writer, cfg FramerConfig) *Framer {
	max := cfg.MaxPacketSize
	if max <= 0 {
		max = DefaultMaxPacketSize
	}
	if max > MaxRemainingLength+5 {
		max = MaxRemainingLength + 5
	}
	size := cfg.ReadBufferSize
	if size <= 0 {
		size = defaultReadBuffer
	}
	if size > max {
		size = max
	}
	if size < 5 {
		size = 5
	}
	v, _ := cfg.Version.norm()
	return &Framer{r: r, w: w, max: max, role: cfg.Role, rversion: v, rbuf: make([]byte, size)}
}

// Version returns the protocol version used to decode packets.
func (f *Framer) Version() Version { return f.rversion }

// SetVersion sets the protocol version used to decode packets. Reading or
// writing a CONNECT sets it too.
func (f *Framer) SetVersion(v Version) { f.rversion, _ = v.norm() }

// SetPeerMaxPacketSize limits the size of packets written, as the peer's
// Maximum Packet Size property asks [MQTT-3.1.2-24]; 0 removes the limit.
func (f *Framer) SetPeerMaxPacketSize(n uint32) { f.peerMax = int(n) }

// ReadRaw reads the next whole packet and returns its fixed header and its
// bytes (header included), which alias the read buffer until the next read.
// A packet larger than the maximum fails with ErrPacketTooLarge and the
// stream cannot be resynchronised; an end of stream inside a packet is
// io.ErrUnexpectedEOF.
func (f *Framer) ReadRaw() (Header, []byte, error) {
	for {
		avail := f.rbuf[f.rpos:f.rend]
		var h Header
		hn, err := h.Decode(avail)
		if err == nil {
			total := hn + h.Remaining
			if total > f.max {
				return h, nil, ErrPacketTooLarge
			}
			if total <= len(avail) {
				f.rpos += total
				return h, avail[:total:total], nil
			}
			f.makeRoom(total)
		} else if err != ErrIncomplete {
			return h, nil, err
		} else {
			f.makeRoom(5)
		}
		if f.rerr != nil {
			err := f.rerr
			if err == io.EOF && f.rend > f.rpos {
				err = io.ErrUnexpectedEOF
			}
			return h, nil, err
		}
		n, err := f.r.Read(f.rbuf[f.rend:])
		f.rend += n
		if err != nil {
			f.rerr = err
		} else if n == 0 {
			continue
		}
	}
}

// makeRoom ensures the buffer can hold need bytes from rpos on.
func (f *Framer) makeRoom(need int) {
	if f.rpos == f.rend {
		f.rpos, f.rend = 0, 0
	}
	if f.rpos+need <= len(f.rbuf) && f.rend < len(f.rbuf) {
		return
	}
	n := copy(f.rbuf, f.rbuf[f.rpos:f.rend])
	f.rpos, f.rend = 0, n
	if need > len(f.rbuf) {
		size := 2 * len(f.rbuf)
		if size < need {
			size = need
		}
		if size > f.max {
			size = f.max
		}
		nb := make([]byte, size)
		copy(nb, f.rbuf[:n])
		f.rbuf = nb
	}
}

// ReadInto reads the next packet and decodes it into the matching field of
// d, returning its type. It allocates nothing once d's slices have grown.
// A CONNECT sets the Framer's version to the one it declares.
func (f *Framer) ReadInto(d *Decoded) (PacketType, error) {
	h, raw, err := f.ReadRaw()
	if err != nil {
		return 0, err
	}
	if f.role != RoleAny {
		if err := f.checkFlow(h.Type); err != nil {
			return h.Type, err
		}
	}
	t, _, err := d.Decode(raw, f.rversion)
	if err != nil {
		return t, err
	}
	if t == TypeConnect {
		f.rversion = d.Connect.Version
	}
	if f.role == RoleServer && t == TypePublish && len(d.Publish.Props.SubscriptionIDs) > 0 {
		return t, errClientSubID // [MQTT-3.3.4-6]
	}
	return t, nil
}

// checkFlow applies the direction and first-packet rules of f's role.
func (f *Framer) checkFlow(t PacketType) error {
	if flowsTo[t]&(1<<f.role) == 0 || (f.role == RoleClient && t == TypeDisconnect && f.rversion != V5) {
		return errDirection // §2.1.2, Table 2-1
	}
	if f.role == RoleServer {
		if !f.started {
			if t != TypeConnect {
				return errFirstConnect // [MQTT-3.1.0-1]
			}
			f.started = true
		} else if t == TypeConnect {
			return errSecondConnect // [MQTT-3.1.0-2]
		}
		return nil
	}
	if !f.started {
		if t != TypeConnack && (t != TypeAuth || f.rversion != V5) {
			return errFirstConnack // [MQTT-3.2.0-1]
		}
		f.started = t == TypeConnack
	}
	return nil
}

// ReadPacket reads and decodes the next packet into a struct owned by the
// Framer and returns it; it is valid until the next read. Use ReadInto to
// own the structs.
func (f *Framer) ReadPacket() (Packet, error) {
	if f.set == nil {
		f.set = new(Decoded)
	}
	t, err := f.ReadInto(f.set)
	if err != nil {
		return nil, err
	}
	return f.set.Packet(t), nil
}

// Buffered returns the bytes read from the stream but not yet returned as
// packets.
func (f *Framer) Buffered() int { return f.rend - f.rpos }

// ErrNoWriter is returned by the write methods of a Framer without a writer.
var ErrNoWriter = errors.New("mqtt: framer has no writer")

// WritePacket encodes p into the write buffer and writes it with one Write.
// Passing p through the interface lets it escape; WritePublish does not.
// Writing a CONNECT sets the read version to its version.
func (f *Framer) WritePacket(p Packet) error {
	if c, ok := p.(*Connect); ok {
		f.SetVersion(c.Version)
	}
	if f.w == nil {
		return ErrNoWriter
	}
	if f.peerMax > 0 && p.EncodedLen() > f.peerMax {
		return ErrPacketTooLarge
	}
	b, err := p.AppendBinary(f.wbuf[:0])
	if err != nil {
		return err
	}
	f.wbuf = b
	_, err = f.w.Write(b)
	return err
}

// WritePublish is WritePacket for a PUBLISH, without an interface
// conversion: it allocates nothing once the write buffer has grown.
func (f *Framer) WritePublish(p *Publish) error {
	if f.w == nil {
		return ErrNoWriter
	}
	if f.peerMax > 0 && p.EncodedLen() > f.peerMax {
		return ErrPacketTooLarge
	}
	b, err := p.AppendBinary(f.wbuf[:0])
	if err != nil {
		return err
	}
	f.wbuf = b
	_, err = f.w.Write(b)
	return err
}

// WriteRaw writes an already encoded packet with one Write, for fan-out of
// one encoding to many connections.
func (f *Framer) WriteRaw(pkt []byte) error {
	if f.w == nil {
		return ErrNoWriter
	}
	if f.peerMax > 0 && len(pkt) > f.peerMax {
		return ErrPacketTooLarge
	}
	_, err := f.w.Write(pkt)
	return err
}
