// Package sys is the only edgekit package that imports golang.org/x/sys/unix.
//
// Everything the platform packages (sched, numa, uring) need from the kernel
// goes through here. Linux implementations live in _linux.go files; every
// other platform gets a fallback that returns an error wrapping
// [errors.ErrUnsupported] with context, so callers can test for it with
// errors.Is and still compile everywhere.
//
// What it holds, by file:
//   - affinity, cpu: the calling thread's CPU mask ([AppendAffinity],
//     [SetAffinity]), [Getcpu] (a raw syscall; x/sys has no wrapper) and
//     [Gettid], for numa's pinning.
//   - sockopt: SO_REUSEPORT, SO_INCOMING_CPU and the reuseport program
//     options SO_ATTACH_REUSEPORT_CBPF / SO_ATTACH_REUSEPORT_EBPF /
//     SO_DETACH_REUSEPORT_BPF, with the classic BPF instruction type
//     [SockFilter], for numa's receive steering.
//   - mempolicy: mbind, set_mempolicy and get_mempolicy (raw syscalls) and
//     anonymous mappings to bind, for numa's memory locality.
//   - uring, mmsg, eventfd: io_uring setup and rings, recvmmsg/sendmmsg and
//     eventfd, for the uring package.
package sys
