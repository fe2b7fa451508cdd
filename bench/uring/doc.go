// Package uringbench compares ways of draining a UDP socket on Linux:
// net.UDPConn (one recvmsg per datagram, the baseline), edgekit's uring.Conn
// on its recvmmsg backend, single-shot io_uring recvmsg through uring.Ring,
// and uring.Conn on its io_uring backend (one multishot recvmsg over a
// provided buffer ring).
//
// Each round queues up to 300,000 64-byte datagrams on a loopback socket
// whose receive buffer is raised with SO_RCVBUFFORCE (root), waits until
// the kernel has delivered them all, then times the drain. The benchmark
// goroutine is pinned to one CPU for filling and draining alike, so that
// every backend frees its datagrams on the CPU that allocated them (a free
// on another CPU costs an IPI, and unpinned runs varied widely). ns/op is
// nanoseconds per datagram; packets/s is reported beside it. Run exactly
// one full round per backend with:
//
//	go test -run '^$' -bench 'Drain$' -benchmem -benchtime 300000x -count 6 ./uring
//
// from the bench module directory. BenchmarkDrainRatios drains one round
// with each reader in turn per op and reports each one's speed-up over
// net.UDPConn measured in the same op (the bars):
//
//	go test -run '^$' -bench DrainRatios -benchtime 5x -count 3 ./uring
package uringbench
