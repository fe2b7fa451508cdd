package uring

import (
	"net"
	"net/netip"
	"time"
)

// Msg is one datagram in a batch read or write.
//
// For ReadBatch the caller sets Buf to the space to fill (typically the
// bytes of a *mempool.Buf at full capacity); the conn sets N to the datagram's
// length and Addr to its source. A datagram longer than Buf is truncated and
// Flags has FlagTrunc. For WriteBatch the conn sends all of Buf to Addr and
// sets N to the number of bytes sent.
type Msg struct {
	Buf   []byte
	N     int
	Addr  netip.AddrPort
	Flags int
}

// Flags of a received Msg.
const (
	// FlagTrunc reports that the datagram did not fit in Buf and was cut.
	FlagTrunc = 1 << iota
)

// ReadStopper is implemented by a BatchConn that can stop reading without
// closing its socket and without losing a datagram it has already taken from
// the kernel. After StopReading, ReadBatch returns the datagrams already
// received (the io_uring backend's completions in flight), then io.EOF;
// datagrams still queued in the socket stay there for another holder of the
// same socket, such as the new process of a graceful restart that inherited
// it. Writes go on working until Close. StopReading does not shut the
// socket down (no shutdown(2): that would stop the other holder too), may
// be called while a ReadBatch is blocked, which it wakes, and returns at
// once. [Conn] and the conns of [WrapPacketConn] implement it.
type ReadStopper interface {
	StopReading() error
}

// BatchConn is the packet interface datagram stacks (CoAP, mesh bearers)
// read and write through. Conn implements it with io_uring or recvmmsg /
// sendmmsg; WrapPacketConn adapts any net.PacketConn.
//
// ReadBatch blocks until at least one datagram has arrived, then fills as
// many of ms as are already queued and returns how many it filled. It
// returns an error once the conn is closed or its read deadline passes
// (errors.Is(err, os.ErrDeadlineExceeded)). WriteBatch sends ms in order and
// returns how many were sent; on error, ms[n] is the one that failed.
//
// One goroutine may read while another writes; concurrent ReadBatch calls
// (or concurrent WriteBatch calls) need the implementation's own guarantee.
type BatchConn interface {
	ReadBatch(ms []Msg) (int, error)
	WriteBatch(ms []Msg) (int, error)
	LocalAddr() net.Addr
	SetReadDeadline(t time.Time) error
	Close() error
}
