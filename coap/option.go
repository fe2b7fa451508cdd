package coap

import "strconv"

// OptionID is a CoAP option number (RFC 7252 §5.4, §12.2). Its low bits
// carry the option's class: odd numbers are critical, bit 1 marks
// unsafe-to-forward, and (n & 0x1e) == 0x1c marks NoCacheKey.
type OptionID uint16

// Registered option numbers.
const (
	IfMatch       OptionID = 1   // RFC 7252 §5.10.8.1
	URIHost       OptionID = 3   // RFC 7252 §5.10.1
	ETag          OptionID = 4   // RFC 7252 §5.10.6
	IfNoneMatch   OptionID = 5   // RFC 7252 §5.10.8.2
	Observe       OptionID = 6   // RFC 7641 §2
	URIPort       OptionID = 7   // RFC 7252 §5.10.1
	LocationPath  OptionID = 8   // RFC 7252 §5.10.7
	OSCORE        OptionID = 9   // RFC 8613 §2
	URIPath       OptionID = 11  // RFC 7252 §5.10.1
	ContentFormat OptionID = 12  // RFC 7252 §5.10.3
	MaxAge        OptionID = 14  // RFC 7252 §5.10.5
	URIQuery      OptionID = 15  // RFC 7252 §5.10.1
	HopLimit      OptionID = 16  // RFC 8768 §3
	Accept        OptionID = 17  // RFC 7252 §5.10.4
	QBlock1       OptionID = 19  // RFC 9177 §4
	LocationQuery OptionID = 20  // RFC 7252 §5.10.7
	EDHOC         OptionID = 21  // RFC 9668 §3.1
	Block2        OptionID = 23  // RFC 7959 §2.1
	Block1        OptionID = 27  // RFC 7959 §2.1
	Size2         OptionID = 28  // RFC 7959 §4
	QBlock2       OptionID = 31  // RFC 9177 §4
	ProxyURI      OptionID = 35  // RFC 7252 §5.10.2
	ProxyScheme   OptionID = 39  // RFC 7252 §5.10.2
	Size1         OptionID = 60  // RFC 7252 §5.10.9, RFC 7959 §4
	Echo          OptionID = 252 // RFC 9175 §2.2
	NoResponse    OptionID = 258 // RFC 7967 §2
	RequestTag    OptionID = 292 // RFC 9175 §3.2
)

// Critical reports whether the option is critical (odd number, §5.4.1).
func (id OptionID) Critical() bool { return id&1 != 0 }

// UnsafeToForward reports whether a proxy must understand the option (§5.4.2).
func (id OptionID) UnsafeToForward() bool { return id&2 != 0 }

// NoCacheKey reports whether the option is not part of the cache key (§5.4.2).
func (id OptionID) NoCacheKey() bool { return id&0x1e == 0x1c }

// ValueFormat is an option value format of RFC 7252 §3.2.
type ValueFormat uint8

// Option value formats.
const (
	FormatUnknown ValueFormat = iota // not a registered option
	FormatEmpty
	FormatOpaque
	FormatUint
	FormatString
)

//go:generate go run ./internal/cmd/genoptions

// optDef describes a registered option; a zero optDef is unregistered.
// The table is in zz_options.go, generated from
// internal/cmd/genoptions/options.csv (STYLE R3).
type optDef struct {
	format     ValueFormat
	repeatable bool
	min, max   uint16
	name       string
}

func (id OptionID) def() optDef {
	if id < 64 {
		return optDefs[id]
	}
	return optDefHigh(id)
}

// Known reports whether the option is registered (and this package knows
// its format).
func (id OptionID) Known() bool { return id.def().format != FormatUnknown }

// Format returns the value format of a registered option, or FormatUnknown.
func (id OptionID) Format() ValueFormat { return id.def().format }

// Repeatable reports whether the option may occur more than once.
func (id OptionID) Repeatable() bool { return id.def().repeatable }

// ValidLength reports whether n is an allowed value length for the option
// (always true for an unregistered option).
func (id OptionID) ValidLength(n int) bool {
	d := id.def()
	if d.format == FormatUnknown {
		return true
	}
	return n >= int(d.min) && n <= int(d.max)
}

// String returns the registered name ("Uri-Path") or the number.
func (id OptionID) String() string {
	if n := id.def().name; n != "" {
		return n
	}
	return "Option(" + strconv.Itoa(int(id)) + ")"
}

// Option is one option instance. Value aliases the decoded datagram or the
// owning Message's storage.
type Option struct {
	ID    OptionID
	Value []byte
}

// Uint returns the value as an unsigned integer (§3.2). ok is false if
// the value is longer than 4 bytes.
func (o Option) Uint() (v uint32, ok bool) { return DecodeUint(o.Value) }

// DecodeUint decodes a uint option value of up to 4 bytes.
func DecodeUint(b []byte) (v uint32, ok bool) {
	if len(b) > 4 {
		return 0, false
	}
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v, true
}

// AppendUint appends the shortest uint option encoding of v (no bytes for
// 0) to dst.
func AppendUint(dst []byte, v uint32) []byte {
	switch {
	case v == 0:
		return dst
	case v < 1<<8:
		return append(dst, byte(v))
	case v < 1<<16:
		return append(dst, byte(v>>8), byte(v))
	case v < 1<<24:
		return append(dst, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
