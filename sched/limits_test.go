package sched

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgekit/edgekit/internal/testutil"
)

func TestDetectLimitsFixtures(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cpu          float64
		cpuSrc       string
		cpuVer       int
		mem          int64
		memSrc       string
		memVer       int
		procs2, note string
	}{
		// The pod slice holds the quota and the tighter memory limit; the
		// container leaf (all Go's runtime reads) has none.
		{name: "v2-nested", cpu: 1.5, cpuSrc: "/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice", cpuVer: 2,
			mem: 512 << 20, memSrc: "/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/memory.max", memVer: 2},
		{name: "v2-leaf-high", cpu: 0.5, cpuSrc: "/sys/fs/cgroup/system.slice/gateway.service", cpuVer: 2,
			mem: 384 << 20, memSrc: "/sys/fs/cgroup/system.slice/gateway.service/memory.high", memVer: 2},
		{name: "v1-nested", cpu: 2, cpuSrc: "/sys/fs/cgroup/cpu,cpuacct/docker", cpuVer: 1,
			mem: 256 << 20, memSrc: "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", memVer: 1},
		{name: "v1-container", cpu: 0.5, cpuSrc: "/sys/fs/cgroup/cpu,cpuacct", cpuVer: 1,
			mem: 128 << 20, memSrc: "/sys/fs/cgroup/memory/memory.limit_in_bytes", memVer: 1,
			note: "limits above it are not visible"},
		{name: "v2-none", cpuVer: 2, memVer: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := DetectLimits(LimitsConfig{Root: filepath.Join("testdata", tc.name)})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(l.CPUQuota-tc.cpu) > 1e-9 || l.CPUSource != tc.cpuSrc || l.CPUVersion != tc.cpuVer {
				t.Errorf("cpu = %v from %q (v%d); want %v from %q (v%d)", l.CPUQuota, l.CPUSource, l.CPUVersion, tc.cpu, tc.cpuSrc, tc.cpuVer)
			}
			if l.Memory != tc.mem || l.MemorySource != tc.memSrc || l.MemoryVersion != tc.memVer {
				t.Errorf("memory = %d from %q (v%d); want %d from %q (v%d)", l.Memory, l.MemorySource, l.MemoryVersion, tc.mem, tc.memSrc, tc.memVer)
			}
			if tc.note != "" && !strings.Contains(l.String(), tc.note) {
				t.Errorf("report lacks %q:\n%s", tc.note, l)
			}
			t.Logf("report:\n%s", l)
		})
	}
}

func TestDetectLimitsMissing(t *testing.T) {
	_, err := DetectLimits(LimitsConfig{Root: t.TempDir()})
	if !errors.Is(err, ErrNoCgroup) {
		t.Fatalf("err = %v; want ErrNoCgroup", err)
	}
}

// TestDetectLimitsMalformed feeds garbage limit files: they are ignored
// with a note, never a panic.
func TestDetectLimitsMalformed(t *testing.T) {
	root := t.TempDir()
	put := func(p, s string) {
		p = filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("proc/self/cgroup", "0::/a\ngarbage\n")
	put("proc/self/mountinfo", "1 2 3\n30 22 0:26 / /cg rw - cgroup2 cgroup2 rw\n")
	put("cg/a/cpu.max", "lots 100000")
	put("cg/a/memory.max", "-5")
	put("cg/memory.high", "12x")
	l, err := DetectLimits(LimitsConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if l.CPUQuota != 0 || l.Memory != 0 || strings.Count(l.String(), "ignored malformed") != 3 {
		t.Errorf("limits %+v", l)
	}
}

func TestParseMountinfoEscapes(t *testing.T) {
	m := parseMountinfo(`40 31 0:37 / /sys/fs/cgroup/my\040dir rw,relatime shared:1 master:2 - cgroup cgroup rw,memory`)
	if len(m) != 1 || m[0].point != "/sys/fs/cgroup/my dir" || !containsStr(m[0].superOpts, "memory") {
		t.Fatalf("%+v", m)
	}
}

func TestLimitsGOMAXPROCS(t *testing.T) {
	for _, tc := range []struct {
		quota float64
		ncpu  int
		want  int
	}{{0, 8, 8}, {0.5, 8, 2}, {0.5, 1, 1}, {1.5, 8, 2}, {1.1, 8, 2}, {2.5, 8, 3}, {16, 8, 8}, {2, 0, 1}} {
		if got := (Limits{CPUQuota: tc.quota}).GOMAXPROCS(tc.ncpu); got != tc.want {
			t.Errorf("quota %v ncpu %d: %d; want %d", tc.quota, tc.ncpu, got, tc.want)
		}
	}
}

// TestDetectLimitsLive reads this process's cgroups.
func TestDetectLimitsLive(t *testing.T) {
	l, err := DetectLimits(LimitsConfig{})
	testutil.SkipIfUnsupported(t, err)
	if errors.Is(err, ErrNoCgroup) && runtime.GOOS == "linux" {
		t.Skipf("no cgroups here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if l.CPUVersion == 0 && l.MemoryVersion == 0 {
		t.Errorf("found neither a cpu nor a memory controller:\n%s", l)
	}
	if l.CPUQuota < 0 || l.Memory < 0 {
		t.Errorf("negative limits %+v", l)
	}
	t.Logf("live:\n%s\nsuggested GOMAXPROCS %d; runtime has %d", l, l.GOMAXPROCS(runtime.NumCPU()), runtime.GOMAXPROCS(0))
}

func TestApplyMemoryLimit(t *testing.T) {
	var set []int64
	cur := int64(math.MaxInt64)
	fake := func(v int64) int64 {
		prev := cur
		if v >= 0 {
			cur = v
			set = append(set, v)
		}
		return prev
	}
	env := map[string]string{}
	cfg := MemoryLimitConfig{SetMemoryLimit: fake, Getenv: func(k string) string { return env[k] }}
	l := Limits{Memory: 512 << 20, MemorySource: "memory.max"}

	res, err := ApplyMemoryLimit(l, cfg)
	if err != nil || !res.Applied || res.Limit != 483183821 || cur != res.Limit || res.Previous != math.MaxInt64 {
		t.Fatalf("default headroom: %+v, %v (set %v)", res, err, set)
	}
	// The byte floor wins for small limits.
	res, _ = ApplyMemoryLimit(Limits{Memory: 40 << 20}, cfg)
	if res.Limit != 32<<20 {
		t.Errorf("small limit: %+v", res)
	}
	cfg.Headroom, cfg.MinHeadroom = 0.25, -1
	res, _ = ApplyMemoryLimit(l, cfg)
	if res.Limit != 384<<20 {
		t.Errorf("25%% headroom: %+v", res)
	}
	// GOMEMLIMIT wins unless Override.
	env["GOMEMLIMIT"] = "100MiB"
	n := len(set)
	res, _ = ApplyMemoryLimit(l, cfg)
	if res.Applied || len(set) != n || !strings.Contains(res.Reason, "GOMEMLIMIT") {
		t.Errorf("with GOMEMLIMIT: %+v", res)
	}
	cfg.Override = true
	if res, _ = ApplyMemoryLimit(l, cfg); !res.Applied {
		t.Errorf("Override: %+v", res)
	}
	// No limit, a limit under the headroom, bad config.
	if res, _ = ApplyMemoryLimit(Limits{}, cfg); res.Applied {
		t.Errorf("no limit: %+v", res)
	}
	if res, _ = ApplyMemoryLimit(Limits{Memory: 1 << 20}, MemoryLimitConfig{SetMemoryLimit: fake, Getenv: cfg.Getenv, Override: true}); res.Applied {
		t.Errorf("tiny limit: %+v", res)
	}
	if _, err := ApplyMemoryLimit(l, MemoryLimitConfig{Headroom: 0.95, SetMemoryLimit: fake}); !errors.Is(err, ErrConfig) {
		t.Errorf("Headroom 0.95: %v", err)
	}
}
