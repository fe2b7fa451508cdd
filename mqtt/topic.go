package mqtt

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// Byte classes for topic validation, indexed by byte value: ORing the
// classes of all bytes of a name tells in one branch-free pass whether it
// needs a closer look.
const (
	cWild     = 1 << iota // '+' or '#'
	cNul                  // 0x00 [MQTT-1.5.4-2]
	cNonASCII             // 0x80-0xFF: check UTF-8
	cSlash                // '/'
)

var topicClass = [256]uint8{
	0: cNul, '#': cWild, '+': cWild, '/': cSlash,
	0x80: cNonASCII, 0x81: cNonASCII, 0x82: cNonASCII, 0x83: cNonASCII, 0x84: cNonASCII, 0x85: cNonASCII, 0x86: cNonASCII, 0x87: cNonASCII,
	0x88: cNonASCII, 0x89: cNonASCII, 0x8a: cNonASCII, 0x8b: cNonASCII, 0x8c: cNonASCII, 0x8d: cNonASCII, 0x8e: cNonASCII, 0x8f: cNonASCII,
	0x90: cNonASCII, 0x91: cNonASCII, 0x92: cNonASCII, 0x93: cNonASCII, 0x94: cNonASCII, 0x95: cNonASCII, 0x96: cNonASCII, 0x97: cNonASCII,
	0x98: cNonASCII, 0x99: cNonASCII, 0x9a: cNonASCII, 0x9b: cNonASCII, 0x9c: cNonASCII, 0x9d: cNonASCII, 0x9e: cNonASCII, 0x9f: cNonASCII,
	0xa0: cNonASCII, 0xa1: cNonASCII, 0xa2: cNonASCII, 0xa3: cNonASCII, 0xa4: cNonASCII, 0xa5: cNonASCII, 0xa6: cNonASCII, 0xa7: cNonASCII,
	0xa8: cNonASCII, 0xa9: cNonASCII, 0xaa: cNonASCII, 0xab: cNonASCII, 0xac: cNonASCII, 0xad: cNonASCII, 0xae: cNonASCII, 0xaf: cNonASCII,
	0xb0: cNonASCII, 0xb1: cNonASCII, 0xb2: cNonASCII, 0xb3: cNonASCII, 0xb4: cNonASCII, 0xb5: cNonASCII, 0xb6: cNonASCII, 0xb7: cNonASCII,
	0xb8: cNonASCII, 0xb9: cNonASCII, 0xba: cNonASCII, 0xbb: cNonASCII, 0xbc: cNonASCII, 0xbd: cNonASCII, 0xbe: cNonASCII, 0xbf: cNonASCII,
	0xc0: cNonASCII, 0xc1: cNonASCII, 0xc2: cNonASCII, 0xc3: cNonASCII, 0xc4: cNonASCII, 0xc5: cNonASCII, 0xc6: cNonASCII, 0xc7: cNonASCII,
	0xc8: cNonASCII, 0xc9: cNonASCII, 0xca: cNonASCII, 0xcb: cNonASCII, 0xcc: cNonASCII, 0xcd: cNonASCII, 0xce: cNonASCII, 0xcf: cNonASCII,
	0xd0: cNonASCII, 0xd1: cNonASCII, 0xd2: cNonASCII, 0xd3: cNonASCII, 0xd4: cNonASCII, 0xd5: cNonASCII, 0xd6: cNonASCII, 0xd7: cNonASCII,
	0xd8: cNonASCII, 0xd9: cNonASCII, 0xda: cNonASCII, 0xdb: cNonASCII, 0xdc: cNonASCII, 0xdd: cNonASCII, 0xde: cNonASCII, 0xdf: cNonASCII,
	0xe0: cNonASCII, 0xe1: cNonASCII, 0xe2: cNonASCII, 0xe3: cNonASCII, 0xe4: cNonASCII, 0xe5: cNonASCII, 0xe6: cNonASCII, 0xe7: cNonASCII,
	0xe8: cNonASCII, 0xe9: cNonASCII, 0xea: cNonASCII, 0xeb: cNonASCII, 0xec: cNonASCII, 0xed: cNonASCII, 0xee: cNonASCII, 0xef: cNonASCII,
	0xf0: cNonASCII, 0xf1: cNonASCII, 0xf2: cNonASCII, 0xf3: cNonASCII, 0xf4: cNonASCII, 0xf5: cNonASCII, 0xf6: cNonASCII, 0xf7: cNonASCII,
	0xf8: cNonASCII, 0xf9: cNonASCII, 0xfa: cNonASCII, 0xfb: cNonASCII, 0xfc: cNonASCII, 0xfd: cNonASCII, 0xfe: cNonASCII, 0xff: cNonASCII,
}

// CheckTopicName reports whether name is a valid topic name for PUBLISH:
// non-empty [MQTT-4.7.3-1], valid MQTT UTF-8 [MQTT-1.5.4-1] [MQTT-1.5.4-2],
// and free of the wildcards '+' and '#' [MQTT-3.3.2-2]. It returns nil or
// a decode *Error.
func CheckTopicName(name []byte) error {
	if len(name) == 0 {
		return errTopicEmpty // [MQTT-4.7.3-1]
	}
	acc := scanTopic(name)
	if acc == 0 {
		return nil
	}
	if acc&cWild != 0 {
		return errTopicWildcard // [MQTT-3.3.2-2]
	}
	if acc&cNul != 0 {
		return errNullChar // [MQTT-1.5.4-2]
	}
	if !utf8.Valid(name) {
		return errBadUTF8 // [MQTT-1.5.4-1]
	}
	return nil
}

// CheckTopicFilter reports whether filter is a valid topic filter for
// SUBSCRIBE/UNSUBSCRIBE: non-empty [MQTT-4.7.3-1], valid MQTT UTF-8, '#'
// only as the whole last level [MQTT-4.7.1-1], '+' only as a whole level
// [MQTT-4.7.1-2]. A shared subscription "$share/{ShareName}/{filter}" must
// have a non-empty ShareName without '/', '+' or '#' [MQTT-4.8.2-1] and a
// valid filter after it [MQTT-4.8.2-2].
//
// Shared subscriptions exist only in MQTT 5; [CheckTopicFilterV] checks a
// filter as a given version defines it.
func CheckTopicFilter(filter []byte) error { return checkFilter(filter, true) }

// CheckTopicFilterV is CheckTopicFilter under protocol version v: under
// MQTT 3.1.1 and 3.1, which have no shared subscriptions, "$share/..." is
// an ordinary filter (a broker that offers shared subscriptions to 3.1.1
// clients applies [ParseShared] itself).
func CheckTopicFilterV(filter []byte, v Version) error { return checkFilter(filter, v == V5) }

func checkFilter(filter []byte, shared bool) error {
	if len(filter) == 0 {
		return errTopicEmpty // [MQTT-4.7.3-1]
	}
	acc := scanTopic(filter)
	if acc&cNul != 0 {
		return errNullChar // [MQTT-1.5.4-2]
	}
	if acc&cNonASCII != 0 && !utf8.Valid(filter) {
		return errBadUTF8 // [MQTT-1.5.4-1]
	}
	if shared && filter[0] == '$' && bytes.HasPrefix(filter, sharePrefix) {
		_, f, err := ParseShared(filter)
		if err != nil {
			return err
		}
		filter = f
	}
	if acc&cWild == 0 {
		return nil
	}
	return checkFilterLevels(filter)
}

// checkFilterLevels checks the placement of wildcards: '#' only as the
// last level, '+' only as a whole level.
func checkFilterLevels(f []byte) error {
	if i := bytes.IndexByte(f, '#'); i >= 0 {
		if i != len(f)-1 || (i > 0 && f[i-1] != '/') {
			return errFilterSyntax // [MQTT-4.7.1-1]
		}
	}
	off := 0
	for {
		j := bytes.IndexByte(f[off:], '+')
		if j < 0 {
			return nil
		}
		i := off + j
		if (i > 0 && f[i-1] != '/') || (i+1 < len(f) && f[i+1] != '/') {
			return errFilterPlus // [MQTT-4.7.1-2]
		}
		off = i + 1
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero reports (in the high bit of each byte) which bytes of w are 0;
// only whether the result is non-zero is meaningful.
func hasZero(w uint64) uint64 { return (w - lsb) &^ w & msb }

// scanTopic returns the union of cWild, cNul and cNonASCII over b, eight
// bytes at a time.
func scanTopic(b []byte) uint8 {
	var acc uint8
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if w&msb != 0 {
			acc |= cNonASCII
		}
		if hasZero(w) != 0 {
			acc |= cNul
		}
		if hasZero(w^('+'*lsb))|hasZero(w^('#'*lsb)) != 0 {
			acc |= cWild
		}
		b = b[8:]
	}
	for _, c := range b {
		acc |= topicClass[c]
	}
	return acc &^ cSlash
}

var sharePrefix = []byte("$share/")

// IsShared reports whether filter starts with "$share/" (§4.8.2).
func IsShared(filter []byte) bool { return bytes.HasPrefix(filter, sharePrefix) }

// ParseShared splits a shared subscription "$share/{ShareName}/{filter}"
// (§4.8.2) into its share name and topic filter, both aliasing filter. It
// returns a nil group and filter unchanged when filter is not shared, and
// an error for an empty share name or one containing '+' or '#'
// [MQTT-4.8.2-1], or a missing filter [MQTT-4.8.2-2]. It does not check the
// syntax of the topic filter itself; see [CheckTopicFilter].
func ParseShared(filter []byte) (group, topicFilter []byte, err error) {
	if !bytes.HasPrefix(filter, sharePrefix) {
		return nil, filter, nil
	}
	rest := filter[len(sharePrefix):]
	i := bytes.IndexByte(rest, '/')
	if i < 0 {
		if len(rest) == 0 {
			return nil, nil, errShareName
		}
		return nil, nil, errShareFilter // [MQTT-4.8.2-2]
	}
	group = rest[:i]
	if len(group) == 0 || bytes.IndexByte(group, '+') >= 0 || bytes.IndexByte(group, '#') >= 0 {
		return nil, nil, errShareName // [MQTT-4.8.2-1]
	}
	topicFilter = rest[i+1:]
	if len(topicFilter) == 0 {
		return nil, nil, errShareFilter // [MQTT-4.8.2-2]
	}
	return group, topicFilter, nil
}

// MatchTopic reports whether the topic name matches the (non-shared) topic
// filter (§4.7): '+' matches exactly one level, '#' the parent level and
// any number of child levels, and a filter starting with a wildcard does
// not match a topic starting with '$' [MQTT-4.7.2-1]. Both arguments are
// assumed valid. It allocates nothing.
func MatchTopic(filter, topic []byte) bool {
	if len(topic) > 0 && topic[0] == '$' && len(filter) > 0 && (filter[0] == '+' || filter[0] == '#') {
		return false // [MQTT-4.7.2-1]
	}
	fi, ti := 0, 0
	for {
		// next filter level
		fe := fi
		for fe < len(filter) && filter[fe] != '/' {
			fe++
		}
		fl := filter[fi:fe]
		if len(fl) == 1 && fl[0] == '#' {
			return true
		}
		if ti > len(topic) {
			// topic exhausted: only "x/#" matches "x" (§4.7.1.2)
			return false
		}
		te := ti
		for te < len(topic) && topic[te] != '/' {
			te++
		}
		if !(len(fl) == 1 && fl[0] == '+') && !bytes.Equal(fl, topic[ti:te]) {
			return false
		}
		fi, ti = fe+1, te+1
		if fe >= len(filter) {
			return te >= len(topic)
		}
		if te >= len(topic) {
			// topic ends; the filter must be exactly "/#" from here
			rest := filter[fi:]
			return len(rest) == 1 && rest[0] == '#'
		}
	}
}
