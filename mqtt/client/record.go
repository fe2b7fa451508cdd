package client

import (
	"encoding/binary"
	"errors"

	"github.com/edgekit/edgekit/mqtt"
)

// A store record is one outgoing message:
//
//	[0]     format (recFormat)
//	[1]     state: stQueued, stSent (QoS 2 PUBLISH sent), stPubrel (PUBREL sent)
//	[2]     MQTT version the packet was encoded with
//	[3]     QoS
//	[4:6]   packet identifier (0 while queued)
//	[6:14]  sequence number, unique per message for the store's lifetime
//	[14:22] creation time, Unix milliseconds (for message expiry)
//	[22:]   the PUBLISH packet as encoded when it was published (its packet
//	        identifier is a placeholder)
const (
	recFormat = 1
	recHdr    = 22

	stQueued = 0
	stSent   = 1
	stPubrel = 2
)

var errBadRecord = errors.New("mqtt/client: invalid store record")

type recHeader struct {
	state   uint8
	version mqtt.Version
	qos     uint8
	id      mqtt.PacketID
	seq     uint64
	created int64
}

func parseRec(rec []byte) (recHeader, error) {
	if len(rec) < recHdr+2 || rec[0] != recFormat || rec[1] > stPubrel || rec[3] > 2 {
		return recHeader{}, errBadRecord
	}
	return recHeader{
		state:   rec[1],
		version: mqtt.Version(rec[2]),
		qos:     rec[3],
		id:      mqtt.PacketID(binary.BigEndian.Uint16(rec[4:])),
		seq:     binary.BigEndian.Uint64(rec[6:]),
		created: int64(binary.BigEndian.Uint64(rec[14:])),
	}, nil
}

func appendRecHeader(dst []byte, h recHeader) []byte {
	dst = append(dst, recFormat, h.state, byte(h.version), h.qos)
	dst = binary.BigEndian.AppendUint16(dst, uint16(h.id))
	dst = binary.BigEndian.AppendUint64(dst, h.seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.created))
	return dst
}

// setRecState rewrites the state and packet identifier of rec in place.
func setRecState(rec []byte, state uint8, id mqtt.PacketID) {
	rec[1] = state
	binary.BigEndian.PutUint16(rec[4:], uint16(id))
}
