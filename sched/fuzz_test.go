package sched

import "testing"

// FuzzDetectLimits feeds arbitrary /proc/self/cgroup, mountinfo and limit
// file contents (from memory, not disk): detectLimits must never panic,
// never leave the mount it walks, and report sane values.
func FuzzDetectLimits(f *testing.F) {
	f.Add("0::/a/b", "30 22 0:26 / /cg rw - cgroup2 cgroup2 rw", "50000 100000", "1048576")
	f.Add("4:memory:/x\n3:cpu:/x", "35 31 0:32 / /cg rw - cgroup cgroup rw,memory,cpu", "-1", "9223372036854771712")
	f.Add("0::/", "30 22 0:26 /a /cg rw shared:1 - cgroup2 cgroup2 rw", "max", "max")
	f.Add("0::/../../etc", `30 22 0:26 / /c\040g rw - cgroup2 cgroup2 rw`, "1 1", "7")
	f.Fuzz(func(t *testing.T, cgroup, mountinfo, cpu, mem string) {
		files := map[string]string{
			"/proc/self/cgroup": cgroup, "/proc/self/mountinfo": mountinfo,
			"/cg/a/cpu.max": cpu, "/cg/a/memory.max": mem, "/cg/x/cpu.cfs_quota_us": cpu,
			"/cg/x/cpu.cfs_period_us": "100000", "/cg/x/memory.limit_in_bytes": mem,
			"/etc/memory.max": "1", // outside every mount: must never be read
		}
		l, err := detectLimits(limReader{mem: files})
		if err != nil {
			return
		}
		if l.CPUQuota < 0 || l.Memory < 0 || l.GOMAXPROCS(4) < 1 || l.MemorySource == "/etc/memory.max" {
			t.Fatalf("limits %+v", l)
		}
		_ = l.String()
	})
}
