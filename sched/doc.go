// Package sched fits a gateway's work to the box it runs on: it discovers
// the CPU and memory limits of the process's cgroups, sets the Go runtime's
// memory limit from them, tightens GOGC as memory runs short, and runs
// tasks on a fixed pool of (optionally pinned) workers with bounded,
// prioritised queues.
//
// # Limits
//
// [DetectLimits] reads /proc/self/cgroup and /proc/self/mountinfo and walks
// from the process's cgroup up to the root of the hierarchy, cgroup v2
// (cpu.max, memory.max, memory.high) or v1 (cpu.cfs_quota_us /
// cpu.cfs_period_us, memory.limit_in_bytes), keeping the most restrictive
// value on the way: a Kubernetes pod's quota often sits on the pod's slice,
// not on the container's leaf cgroup. [Limits.String] reports what was
// found, where, and why (for example that a container without a cgroup
// namespace cannot see its ancestors). [LimitsConfig.Root] points the
// reads at a fixture tree.
//
// [ApplyMemoryLimit] sets debug.SetMemoryLimit to the cgroup limit minus a
// configurable headroom, which the Go runtime does not do by itself; an
// explicit GOMEMLIMIT wins unless overridden.
//
// # GOMAXPROCS: what Go does and what we do
//
// This package never changes GOMAXPROCS. Since Go 1.25, for a main module
// whose go.mod says go 1.25 or later (and without a GOMAXPROCS environment
// variable), the runtime itself sets the default GOMAXPROCS from the CPU
// affinity mask and the cgroup CPU quota, and keeps updating it while the
// program runs. Calling runtime.GOMAXPROCS(n) turns those updates off
// (runtime.SetDefaultGOMAXPROCS turns them back on), so a library that
// "fixes" GOMAXPROCS fights the runtime and loses the updates.
//
// The runtime may not see every limit: it reads the limit where the
// process's own cgroup is (golang/go#81180), while DetectLimits takes the
// tightest one on the whole path. [Limits.GOMAXPROCS] computes, the way the
// runtime does, what that tighter quota implies. If it is lower than
// runtime.GOMAXPROCS(0), the application (not a library) may decide to
// call runtime.GOMAXPROCS with it, accepting that automatic updates stop.
// Older go.mod versions (or GODEBUG=updatemaxprocs=0,cgroupgomaxprocs=0)
// leave GOMAXPROCS at the number of usable CPUs. Pinning interacts too:
// the default follows the process's affinity mask, so pin worker threads
// (numa.PinCPU, [PoolConfig.PinCPUs]), never the whole process.
//
// # GC controller
//
// A [GCController] reads memory use at each [GCController.Step] (or from
// [GCController.Run]'s ticker) and lowers GOGC through configurable
// watermarks as use nears the limit, with hysteresis on the way back, and
// keeps [GCStats]. The memory reader and GOGC setter are injectable.
//
// # Worker pool
//
// A [Pool] runs [Task] values on a fixed number of workers fed by two
// bounded lock-free queues: [RealTime] tasks are always taken before
// [Normal] ones. [Pool.TrySubmit] fails fast with [ErrFull]; [Pool.Submit]
// waits for room until its context ends. A panicking task is recovered and
// reported to [PoolConfig.OnPanic]; the worker carries on. [Pool.Close]
// drains the queues and waits for the workers. Submitting a pointer the
// caller reuses, or a [TaskFunc] of a non-capturing function, allocates
// nothing:
//
//	p, err := sched.NewPool(sched.PoolConfig{QueueSize: 4096})
//	if err != nil { ... }
//	defer p.Close()
//	job := &decodeJob{} // implements Run(); reused by the caller
//	if err := p.TrySubmit(job); errors.Is(err, sched.ErrFull) {
//		dropped++ // shed load instead of queueing without bound
//	}
//	_ = p.SubmitClass(ctx, sched.RealTime, commandTask)
package sched
