package hci

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// H:4 packet indicators (Core Vol 4 Part A §2).
const (
	PacketCommand = 0x01
	PacketACL     = 0x02
	PacketSCO     = 0x03
	PacketEvent   = 0x04
	PacketISO     = 0x05
)

// Event codes and LE subevents used by the bearer (Core Vol 4 Part E §7.7).
const (
	EvtCommandComplete = 0x0e
	EvtCommandStatus   = 0x0f
	EvtLEMeta          = 0x3e
	SubLEAdvReport     = 0x02
)

// Command opcodes (OGF << 10 | OCF) used by the bearer.
const (
	OpSetEventMask      = 0x0c01
	OpReset             = 0x0c03
	OpLESetEventMask    = 0x2001
	OpLESetRandomAddr   = 0x2005
	OpLESetAdvParams    = 0x2006
	OpLESetAdvData      = 0x2008
	OpLESetAdvEnable    = 0x200a
	OpLESetScanParams   = 0x200b
	OpLESetScanEnable   = 0x200c
	OpReadBDAddr        = 0x1009
	OpReadLocalVersion  = 0x1001
	OpLEReadBufferSize  = 0x2002
	maxCommandParamsLen = 255
)

// Advertising report event types (legacy).
const (
	AdvInd        = 0x00
	AdvDirectInd  = 0x01
	AdvScanInd    = 0x02
	AdvNonconnInd = 0x03
	ScanRsp       = 0x04
)

// Errors.
var (
	// ErrIncomplete: more bytes are needed for a whole packet; the input
	// is untouched.
	ErrIncomplete = errors.New("blemesh/hci: incomplete packet")
	// ErrPacketType: an unknown H:4 packet indicator; the byte stream
	// cannot be resynchronised.
	ErrPacketType = errors.New("blemesh/hci: unknown H:4 packet type")
	// ErrTooLarge: a packet over Config.MaxPacket.
	ErrTooLarge = errors.New("blemesh/hci: packet too large")
	// ErrMalformed: an event whose parameters do not match its code.
	ErrMalformed = errors.New("blemesh/hci: malformed event")
	// ErrClosed: the bearer is closed.
	ErrClosed = errors.New("blemesh/hci: bearer closed")
	// ErrTimeout: a command got no Command Complete or Status in time.
	ErrTimeout = errors.New("blemesh/hci: command timeout")
)

// StatusError is a command that completed with a non-zero HCI status
// (Core Vol 1 Part F).
type StatusError struct {
	Opcode uint16
	Status uint8
}

func (e StatusError) Error() string {
	return "blemesh/hci: command 0x" + strconv.FormatUint(uint64(e.Opcode), 16) +
		" failed with status 0x" + strconv.FormatUint(uint64(e.Status), 16)
}

// AppendCommand appends an H:4 command packet to dst.
func AppendCommand(dst []byte, opcode uint16, params []byte) ([]byte, error) {
	if len(params) > maxCommandParamsLen {
		return dst, ErrTooLarge
	}
	dst = append(dst, PacketCommand, byte(opcode), byte(opcode>>8), byte(len(params)))
	return append(dst, params...), nil
}

// AppendEvent appends an H:4 event packet to dst (for controllers and tests).
func AppendEvent(dst []byte, code uint8, params []byte) ([]byte, error) {
	if len(params) > 255 {
		return dst, ErrTooLarge
	}
	dst = append(dst, PacketEvent, code, byte(len(params)))
	return append(dst, params...), nil
}

// ParsePacket splits the first H:4 packet off src: its indicator, its body
// (header and payload, without the indicator; aliasing src) and its total
// length. It returns ErrIncomplete when src holds only part of a packet,
// ErrPacketType for an unknown indicator and ErrTooLarge for a packet
// longer than max octets (0 means 4 + 65535).
func ParsePacket(src []byte, max int) (typ uint8, body []byte, n int, err error) {
	if len(src) < 1 {
		return 0, nil, 0, ErrIncomplete
	}
	typ = src[0]
	var hdr, plen int
	switch typ {
	case PacketCommand:
		hdr = 3
		if len(src) >= 1+hdr {
			plen = int(src[3])
		}
	case PacketEvent:
		hdr = 2
		if len(src) >= 1+hdr {
			plen = int(src[2])
		}
	case PacketACL:
		hdr = 4
		if len(src) >= 1+hdr {
			plen = int(binary.LittleEndian.Uint16(src[3:]))
		}
	case PacketSCO:
		hdr = 3
		if len(src) >= 1+hdr {
			plen = int(src[3])
		}
	case PacketISO:
		hdr = 4
		if len(src) >= 1+hdr {
			plen = int(binary.LittleEndian.Uint16(src[3:]) & 0x3fff)
		}
	default:
		return typ, nil, 0, ErrPacketType
	}
	if len(src) < 1+hdr {
		return typ, nil, 0, ErrIncomplete
	}
	total := 1 + hdr + plen
	if max > 0 && total > max {
		return typ, nil, 0, ErrTooLarge
	}
	if len(src) < total {
		return typ, nil, 0, ErrIncomplete
	}
	return typ, src[1:total], total, nil
}

// Framer reads H:4 packets from a byte stream (a UART, btvirt's Unix
// socket) or a packet socket (an HCI user channel, one packet per read).
// It owns one buffer; a packet returned by Next is valid until the next
// call. Not safe for concurrent use.
type Framer struct {
	r          io.Reader
	buf        []byte
	start, end int
	max        int
}

// NewFramer returns a framer reading from r that accepts packets of up to
// max octets (0 means 1024 + 5; larger packets are an error: the mesh
// bearer only needs events).
func NewFramer(r io.Reader, max int) *Framer {
	if max <= 0 {
		max = 1024 + 5
	}
	size := 4096
	if size < 2*max {
		size = 2 * max
	}
	return &Framer{r: r, buf: make([]byte, size), max: max}
}

// Next returns the next packet's indicator and body.
func (f *Framer) Next() (typ uint8, body []byte, err error) {
	for {
		typ, body, n, err := ParsePacket(f.buf[f.start:f.end], f.max)
		if err == nil {
			f.start += n
			return typ, body, nil
		}
		if err != ErrIncomplete {
			return typ, nil, err
		}
		if f.start > 0 {
			f.end = copy(f.buf, f.buf[f.start:f.end])
			f.start = 0
		}
		m, rerr := f.r.Read(f.buf[f.end:])
		f.end += m
		if rerr != nil {
			if m > 0 {
				continue
			}
			if rerr == io.EOF && f.end > f.start {
				rerr = io.ErrUnexpectedEOF
			}
			return 0, nil, rerr
		}
	}
}

// Event is an HCI event: its code and parameters (aliasing the packet).
type Event struct {
	Code   uint8
	Params []byte
}

// Decode parses the body of an event packet (without the indicator).
func (e *Event) Decode(body []byte) (int, error) {
	if len(body) < 2 {
		return 0, ErrMalformed
	}
	l := int(body[1])
	if len(body) < 2+l {
		return 0, ErrMalformed
	}
	e.Code, e.Params = body[0], body[2:2+l]
	return 2 + l, nil
}

// CommandComplete is the Command Complete event (§7.7.14): Return holds the
// return parameters, starting with the status for every command the
// bearer sends.
type CommandComplete struct {
	NumPackets uint8
	Opcode     uint16
	Return     []byte
}

// Decode parses the event parameters.
func (c *CommandComplete) Decode(p []byte) error {
	if len(p) < 3 {
		return ErrMalformed
	}
	c.NumPackets, c.Opcode, c.Return = p[0], binary.LittleEndian.Uint16(p[1:]), p[3:]
	return nil
}

// Status returns the first return parameter (the status), or 0 when there
// are none.
func (c *CommandComplete) Status() uint8 {
	if len(c.Return) == 0 {
		return 0
	}
	return c.Return[0]
}

// CommandStatus is the Command Status event (§7.7.15).
type CommandStatus struct {
	Status     uint8
	NumPackets uint8
	Opcode     uint16
}

// Decode parses the event parameters.
func (c *CommandStatus) Decode(p []byte) error {
	if len(p) != 4 {
		return ErrMalformed
	}
	c.Status, c.NumPackets, c.Opcode = p[0], p[1], binary.LittleEndian.Uint16(p[2:])
	return nil
}

// AdvReport is one report of an LE Advertising Report event (§7.7.65.2).
// Data aliases the event.
type AdvReport struct {
	EventType uint8
	AddrType  uint8
	Addr      [6]byte // little-endian, as on the wire
	Data      []byte
	RSSI      int8
}

// ReportIter walks the reports of an LE Advertising Report event. It does
// not allocate.
type ReportIter struct {
	p    []byte
	left int
	err  error
}

// NewReportIter starts iterating the parameters of an LE Meta event whose
// subevent is SubLEAdvReport.
func NewReportIter(leMeta []byte) ReportIter {
	if len(leMeta) < 2 || leMeta[0] != SubLEAdvReport {
		return ReportIter{err: ErrMalformed}
	}
	n := int(leMeta[1])
	if n == 0 {
		return ReportIter{err: ErrMalformed}
	}
	return ReportIter{p: leMeta[2:], left: n}
}

// Next decodes the next report into r.
func (it *ReportIter) Next(r *AdvReport) bool {
	if it.err != nil || it.left == 0 {
		return false
	}
	p := it.p
	if len(p) < 9 {
		it.err = ErrMalformed
		return false
	}
	l := int(p[8])
	if l > 31 || len(p) < 9+l+1 {
		it.err = ErrMalformed
		return false
	}
	r.EventType, r.AddrType = p[0], p[1]
	copy(r.Addr[:], p[2:8])
	r.Data = p[9 : 9+l]
	r.RSSI = int8(p[9+l])
	it.p = p[10+l:]
	it.left--
	return true
}

// Err returns the decoding error that stopped the iteration.
func (it *ReportIter) Err() error { return it.err }

// AppendAdvReport appends the parameters of an LE Meta event carrying one
// advertising report (for controllers and tests).
func AppendAdvReport(dst []byte, r *AdvReport) []byte {
	dst = append(dst, SubLEAdvReport, 1, r.EventType, r.AddrType)
	dst = append(dst, r.Addr[:]...)
	dst = append(dst, byte(len(r.Data)))
	dst = append(dst, r.Data...)
	return append(dst, byte(r.RSSI))
}
