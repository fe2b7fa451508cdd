// Package numa gives a gateway the machine's shape and the tools to keep
// work and packets where they land: CPU and NUMA topology from sysfs,
// pinning of worker threads, per-CPU receive steering with SO_REUSEPORT
// groups, and NUMA-local buffers.
//
// Topology: [ReadTopology] reads CPUs (online, offline, isolated),
// packages, cores and SMT siblings, caches (level, type, size, line size,
// sharing) and NUMA nodes (CPUs, memory, distances) from
// /sys/devices/system; [Config.SysRoot] points it elsewhere for tests.
//
// Pinning: [PinCPU], [PinCPUs] and [PinNode] lock the calling goroutine to
// its OS thread and set that thread's CPU mask; [RunPinned] runs one pinned
// worker per CPU. Pin worker threads, not the process: Go derives its
// default GOMAXPROCS from the process's CPU mask, so a pinned process gets
// a smaller GOMAXPROCS while pinned threads leave it alone.
//
// Receive steering: [ListenUDP] and [ListenTCP] open one socket per CPU in a
// reuseport group and attach a program that hands each datagram or
// connection to the socket of the CPU that received it: classic BPF by
// default ([SteerCBPF], no privilege needed), eBPF built in Go with
// github.com/cilium/ebpf/asm as an option ([SteerEBPF]), or the kernel's
// SO_INCOMING_CPU preference ([SteerIncomingCPU]). The group reports the
// mode in effect. Serve socket i from a worker pinned to CPU i:
//
//	g, err := numa.ListenUDP(ctx, "udp4", ":5683", numa.SteerConfig{})
//	if err != nil { ... }
//	defer g.Close()
//	log.Println("steering:", g.Report())
//	err = numa.RunPinned(ctx, g.CPUs, func(ctx context.Context, i, cpu int) error {
//		return serve(ctx, g.Conns[i]) // packets received on cpu stay on cpu
//	})
//
// Memory: [AllocOnNode] maps buffers bound to a node (mbind), and
// [PreferLocalMemory] makes a pinned thread's new pages local
// (set_mempolicy).
//
// Everything that needs the kernel is Linux-only and returns an error
// wrapping [errors.ErrUnsupported] elsewhere; ReadTopology with an explicit
// SysRoot works on every platform.
package numa
