// Package uring moves datagrams in batches: io_uring where the kernel allows
// it, recvmmsg/sendmmsg otherwise, and a plain net.PacketConn as the portable
// fallback. Datagram stacks (CoAP, the mesh bearers) read and write through
// [BatchConn]; [WrapPacketConn] adapts any net.PacketConn to it.
package uring
