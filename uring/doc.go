// Package uring moves UDP datagrams in batches: io_uring where the kernel
// allows it, recvmmsg/sendmmsg otherwise, and a plain net.UDPConn as the
// portable fallback. Datagram stacks (CoAP, the mesh bearers) read and write
// through [BatchConn]; [Conn] implements it with the best backend, and
// [WrapPacketConn] adapts any net.PacketConn.
//
//	c, err := uring.ListenUDP("udp", "[::1]:5683", uring.Config{})
//	log.Print(c.Report()) // "io_uring", or e.g. "mmsg (io_uring refused: ... operation not permitted)"
//	ms := make([]uring.Msg, 32) // each with a Buf, reused for every batch
//	n, err := c.ReadBatch(ms)   // blocks for the first datagram, then takes what is queued
//
// # Backends
//
// [BackendIOURing] arms one multishot recvmsg over a provided buffer ring
// (kernel 6.0+): the kernel receives datagrams into ring buffers as they
// arrive and ReadBatch only reads the completion queue in user space,
// copying each datagram into the caller's Msg.Buf and handing its buffer
// back to the kernel. [BackendMmsg] receives and sends up to
// Config.BatchSize datagrams per recvmmsg/sendmmsg call. [BackendStd] moves
// one datagram per call. The io_uring backend sends with sendmmsg too: a
// batch is one system call either way, and it keeps write deadlines and
// Close working through the netpoller.
//
// io_uring is often unavailable: Docker's default seccomp profile returns
// EPERM or ENOSYS for io_uring_setup, and kernel.io_uring_disabled turns it
// off. [BackendAuto] then falls back to recvmmsg and records the reason in
// [Conn.Report]; a backend asked for explicitly is never replaced (NewConn
// fails with a [RefusedError]).
//
// # Waiting without a goroutine per operation
//
// Completions reach Go through an eventfd registered with the ring
// (IORING_REGISTER_EVENTFD). The eventfd is non-blocking and wrapped with
// os.NewFile, so the Go netpoller watches it: a reader with an empty
// completion queue parks like any network read, deadlines and Close work
// the usual way, and no OS thread is held. A dedicated locked thread was the
// alternative; it would cost a thread and a hand-off per wake-up, and
// io_uring's single-issuer optimisations would then still need every
// submission to come from that thread. recvmmsg waits the same way, through
// syscall.RawConn's Read and Write callbacks.
//
// The price of io_uring here: the kernel completes a socket receive in task
// work on the thread that armed it, which then posts the completion and
// signals the eventfd. Bulk receive gains (no system call while the
// completion queue holds datagrams; see BenchmarkDrain), but a lone
// datagram takes one more thread wake-up than with recvmmsg, which shows
// as latency on a CPU-starved host. Force [BackendMmsg] when per-datagram
// latency matters more than throughput.
//
// # Stopping without losing datagrams
//
// A multishot receive takes datagrams from the socket ahead of the reader,
// up to the buffer ring's size. Close discards them; that is right when the
// socket goes away with the Conn, and wrong when another process holds the
// same socket (a graceful restart that handed it over). [Conn.StopReading]
// ([ReadStopper]) cancels the receive and lets ReadBatch return every
// completion up to the last, then io.EOF, leaving the socket and its queue
// to the other holder; the recvmmsg and std backends and [WrapPacketConn]
// stop the same way, without taking another datagram.
//
// # The ring binding
//
// [Ring] is the small io_uring binding underneath: setup with feature and
// opcode probing, the SQ/CQ mappings, submit and reap, recvmsg/sendmsg,
// multishot recvmsg with a [BufRing], read/write, timeouts and cancel.
//
// All of this is Linux-only; elsewhere NewRing fails with an error wrapping
// errors.ErrUnsupported and Conn uses net.UDPConn.
package uring
