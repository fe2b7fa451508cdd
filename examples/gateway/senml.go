package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// A reading is one normalised measurement of one device.
type reading struct {
	Quantity string  // topic level: SenML name or the resource path
	Kind     byte    // 'n' number, 's' string, 'b' bool
	Num      float64 // Kind 'n' (and 'b': 0 or 1)
	Str      string  // Kind 's'
	Unit     string
	Time     float64 // seconds since the Unix epoch
}

// Errors of the SenML parsers.
var (
	errSenML     = errors.New("senml: malformed pack")
	errTooMany   = errors.New("senml: too many records")
	errNoValue   = errors.New("senml: record without a value")
	errBadNumber = errors.New("plain value: not a number, true/false or on/off")
)

// maxRecords bounds the records of one pack.
const maxRecords = 256

// senmlRecord is one SenML JSON record (RFC 8428 §4).
type senmlRecord struct {
	BN string   `json:"bn"`
	BT float64  `json:"bt"`
	BU string   `json:"bu"`
	BV float64  `json:"bv"`
	N  string   `json:"n"`
	U  string   `json:"u"`
	V  *float64 `json:"v"`
	VS *string  `json:"vs"`
	VB *bool    `json:"vb"`
	T  float64  `json:"t"`
}

// parseSenMLJSON resolves a SenML JSON pack (RFC 8428 §4.6) into readings
// appended to dst, with base name bn returned for device naming.
func parseSenMLJSON(dst []reading, body []byte, now time.Time) ([]reading, string, error) {
	var recs []senmlRecord
	if err := json.Unmarshal(body, &recs); err != nil {
		return dst, "", errSenML
	}
	if len(recs) > maxRecords {
		return dst, "", errTooMany
	}
	var r resolver
	r.now = float64(now.UnixNano()) / 1e9
	for i := range recs {
		x := &recs[i]
		var raw rawRecord
		raw.hasBN, raw.bn = x.BN != "", x.BN
		raw.bt, raw.bu, raw.bv, raw.n, raw.u, raw.t = x.BT, x.BU, x.BV, x.N, x.U, x.T
		raw.hasBU = x.BU != ""
		switch {
		case x.V != nil:
			raw.kind, raw.num = 'n', *x.V
		case x.VS != nil:
			raw.kind, raw.str = 's', *x.VS
		case x.VB != nil:
			raw.kind = 'b'
			if *x.VB {
				raw.num = 1
			}
		}
		var err error
		if dst, err = r.add(dst, &raw); err != nil {
			return dst, "", err
		}
	}
	return dst, r.firstBN, nil
}

// rawRecord is a SenML record before resolution.
type rawRecord struct {
	bn, bu, n, u, str string
	hasBN, hasBU      bool
	bt, bv, t, num    float64
	kind              byte
}

// resolver carries base values from record to record (RFC 8428 §4.6).
type resolver struct {
	now     float64
	bn, bu  string
	bt, bv  float64
	firstBN string
}

func (r *resolver) add(dst []reading, x *rawRecord) ([]reading, error) {
	if x.hasBN {
		r.bn = x.bn
		if r.firstBN == "" {
			r.firstBN = x.bn
		}
	}
	if x.bt != 0 {
		r.bt = x.bt
	}
	if x.hasBU {
		r.bu = x.bu
	}
	if x.bv != 0 {
		r.bv = x.bv
	}
	if x.kind == 0 {
		if x.bv != 0 || x.hasBN || x.bt != 0 || x.hasBU {
			return dst, nil // a record that only sets base fields
		}
		return dst, errNoValue
	}
	rd := reading{Kind: x.kind, Num: x.num, Str: x.str, Unit: x.u}
	if rd.Kind == 'n' {
		rd.Num += r.bv
	}
	if rd.Unit == "" {
		rd.Unit = r.bu
	}
	t := r.bt + x.t
	if t < 1<<28 { // relative time (RFC 8428 §4.5.3)
		t += r.now
	}
	rd.Time = t
	name := r.bn + x.n
	if r.firstBN != "" && strings.HasPrefix(name, r.firstBN) {
		name = name[len(r.firstBN):] // the device is named by bn, the quantity by n
	}
	rd.Quantity = sanitizeLevel(strings.Trim(name, ":/"))
	if rd.Quantity == "" {
		rd.Quantity = "value"
	}
	if math.IsNaN(rd.Num) || math.IsInf(rd.Num, 0) {
		return dst, errSenML
	}
	if len(dst) >= maxRecords {
		return dst, errTooMany
	}
	return append(dst, rd), nil
}

// parsePlain reads a plain-text value: a number, true/false or on/off.
func parsePlain(dst []reading, quantity string, body []byte, now time.Time) ([]reading, error) {
	s := strings.TrimSpace(string(body))
	rd := reading{Quantity: quantity, Kind: 'n', Time: float64(now.UnixNano()) / 1e9}
	switch strings.ToLower(s) {
	case "true", "on":
		rd.Kind, rd.Num = 'b', 1
	case "false", "off":
		rd.Kind = 'b'
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return dst, errBadNumber
		}
		rd.Num = v
	}
	return append(dst, rd), nil
}

// SenML CBOR labels (RFC 8428 §6).
const (
	cborBN = -2
	cborBT = -3
	cborBU = -4
	cborBV = -5
	cborN  = 0
	cborU  = 1
	cborV  = 2
	cborVS = 3
	cborVB = 4
	cborT  = 6
)

// parseSenMLCBOR resolves a SenML CBOR pack (RFC 8428 §6) into readings.
// Only definite lengths are accepted, as the RFC's deterministic encoding
// produces.
func parseSenMLCBOR(dst []reading, body []byte, now time.Time) ([]reading, string, error) {
	d := cborDec{b: body}
	n, err := d.head(4)
	if err != nil {
		return dst, "", err
	}
	if n > maxRecords {
		return dst, "", errTooMany
	}
	var r resolver
	r.now = float64(now.UnixNano()) / 1e9
	for i := uint64(0); i < n; i++ {
		pairs, err := d.head(5)
		if err != nil {
			return dst, "", err
		}
		if pairs > 32 {
			return dst, "", errSenML
		}
		var x rawRecord
		for j := uint64(0); j < pairs; j++ {
			key, err := d.int()
			if err != nil {
				return dst, "", err
			}
			switch key {
			case cborBN, cborBU, cborN, cborU, cborVS:
				s, err := d.text()
				if err != nil {
					return dst, "", err
				}
				switch key {
				case cborBN:
					x.bn, x.hasBN = s, true
				case cborBU:
					x.bu, x.hasBU = s, true
				case cborN:
					x.n = s
				case cborU:
					x.u = s
				case cborVS:
					x.kind, x.str = 's', s
				}
			case cborBT, cborBV, cborV, cborT:
				f, err := d.number()
				if err != nil {
					return dst, "", err
				}
				switch key {
				case cborBT:
					x.bt = f
				case cborBV:
					x.bv = f
				case cborV:
					x.kind, x.num = 'n', f
				case cborT:
					x.t = f
				}
			case cborVB:
				b, err := d.bool()
				if err != nil {
					return dst, "", err
				}
				x.kind = 'b'
				if b {
					x.num = 1
				}
			default:
				if err := d.skip(0); err != nil {
					return dst, "", err
				}
			}
		}
		if dst, err = r.add(dst, &x); err != nil {
			return dst, "", err
		}
	}
	if d.i != len(d.b) {
		return dst, "", errSenML
	}
	return dst, r.firstBN, nil
}

// cborDec is a minimal, bounded CBOR reader (RFC 8949) for SenML.
type cborDec struct {
	b []byte
	i int
}

// arg reads an initial byte and its argument.
func (d *cborDec) arg() (major byte, info byte, v uint64, err error) {
	if d.i >= len(d.b) {
		return 0, 0, 0, errSenML
	}
	ib := d.b[d.i]
	d.i++
	major, info = ib>>5, ib&0x1f
	switch {
	case info < 24:
		return major, info, uint64(info), nil
	case info == 24:
		if d.i+1 > len(d.b) {
			return 0, 0, 0, errSenML
		}
		v = uint64(d.b[d.i])
		d.i++
	case info == 25:
		if d.i+2 > len(d.b) {
			return 0, 0, 0, errSenML
		}
		v = uint64(binary.BigEndian.Uint16(d.b[d.i:]))
		d.i += 2
	case info == 26:
		if d.i+4 > len(d.b) {
			return 0, 0, 0, errSenML
		}
		v = uint64(binary.BigEndian.Uint32(d.b[d.i:]))
		d.i += 4
	case info == 27:
		if d.i+8 > len(d.b) {
			return 0, 0, 0, errSenML
		}
		v = binary.BigEndian.Uint64(d.b[d.i:])
		d.i += 8
	default:
		return 0, 0, 0, errSenML // indefinite lengths and reserved values
	}
	return major, info, v, nil
}

// head reads an array (4) or map (5) header.
func (d *cborDec) head(major byte) (uint64, error) {
	m, _, v, err := d.arg()
	if err != nil {
		return 0, err
	}
	if m != major {
		return 0, errSenML
	}
	return v, nil
}

func (d *cborDec) int() (int64, error) {
	m, _, v, err := d.arg()
	if err != nil {
		return 0, err
	}
	if v > math.MaxInt32 {
		return 0, errSenML
	}
	switch m {
	case 0:
		return int64(v), nil
	case 1:
		return -1 - int64(v), nil
	}
	return 0, errSenML
}

func (d *cborDec) text() (string, error) {
	m, _, v, err := d.arg()
	if err != nil {
		return "", err
	}
	if m != 3 || v > uint64(len(d.b)-d.i) || v > 1024 {
		return "", errSenML
	}
	s := string(d.b[d.i : d.i+int(v)])
	d.i += int(v)
	return s, nil
}

func (d *cborDec) number() (float64, error) {
	m, info, v, err := d.arg()
	if err != nil {
		return 0, err
	}
	switch m {
	case 0:
		return float64(v), nil
	case 1:
		return -1 - float64(v), nil
	case 7:
		switch info {
		case 25:
			return halfToFloat(uint16(v)), nil
		case 26:
			return float64(math.Float32frombits(uint32(v))), nil
		case 27:
			return math.Float64frombits(v), nil
		}
	}
	return 0, errSenML
}

func (d *cborDec) bool() (bool, error) {
	m, info, _, err := d.arg()
	if err != nil {
		return false, err
	}
	if m == 7 && (info == 20 || info == 21) {
		return info == 21, nil
	}
	return false, errSenML
}

// skip skips one data item, up to a nesting depth of 4.
func (d *cborDec) skip(depth int) error {
	if depth > 4 {
		return errSenML
	}
	m, _, v, err := d.arg()
	if err != nil {
		return err
	}
	switch m {
	case 0, 1, 7:
		return nil
	case 2, 3:
		if v > uint64(len(d.b)-d.i) {
			return errSenML
		}
		d.i += int(v)
		return nil
	case 4, 5:
		if v > uint64(len(d.b)-d.i) {
			return errSenML
		}
		if m == 5 {
			v *= 2
		}
		for k := uint64(0); k < v; k++ {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case 6: // tag
		return d.skip(depth + 1)
	}
	return errSenML
}

// halfToFloat converts an IEEE 754 half-precision value.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 31:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(frac+1024, exp-25)
}

// appendSenMLCBOR encodes one numeric record pack {bn, n, u, v, t}; the demo
// sensors and the tests use it.
func appendSenMLCBOR(dst []byte, bn string, recs []reading) []byte {
	dst = cborHead(dst, 4, uint64(len(recs)))
	for i, r := range recs {
		pairs := uint64(3)
		if i == 0 && bn != "" {
			pairs++
		}
		if r.Unit != "" {
			pairs++
		}
		dst = cborHead(dst, 5, pairs)
		if i == 0 && bn != "" {
			dst = cborInt(dst, cborBN)
			dst = cborText(dst, bn)
		}
		dst = cborInt(dst, cborN)
		dst = cborText(dst, r.Quantity)
		if r.Unit != "" {
			dst = cborInt(dst, cborU)
			dst = cborText(dst, r.Unit)
		}
		dst = cborInt(dst, cborV)
		dst = append(dst, 0xfb)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(r.Num))
		dst = cborInt(dst, cborT)
		dst = append(dst, 0xfb)
		dst = binary.BigEndian.AppendUint64(dst, math.Float64bits(r.Time))
	}
	return dst
}

func cborHead(dst []byte, major byte, v uint64) []byte {
	switch {
	case v < 24:
		return append(dst, major<<5|byte(v))
	case v <= 0xff:
		return append(dst, major<<5|24, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, major<<5|25), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, major<<5|26), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, major<<5|27), v)
}

func cborInt(dst []byte, v int64) []byte {
	if v < 0 {
		return cborHead(dst, 1, uint64(-1-v))
	}
	return cborHead(dst, 0, uint64(v))
}

func cborText(dst []byte, s string) []byte {
	return append(cborHead(dst, 3, uint64(len(s))), s...)
}
