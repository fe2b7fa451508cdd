package sched

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// LimitsConfig says where DetectLimits looks. The zero value reads the live
// process.
type LimitsConfig struct {
	// Root is prepended to every path read (/proc/self/cgroup,
	// /proc/self/mountinfo and the cgroup mounts they name); "" means "/".
	// Tests point it at a fixture tree.
	Root string
}

// Limits is what DetectLimits found: the effective CPU quota and memory
// limit of the process's cgroups, the most restrictive value on the path
// from the process's cgroup up to the root of its hierarchy.
type Limits struct {
	// CPUQuota is the CPU bandwidth limit in CPUs (1.5 = one and a half
	// CPUs' worth of time per period); 0 means no quota.
	CPUQuota float64
	// CPUSource is the cgroup directory whose quota is effective.
	CPUSource string
	// CPUVersion is the cgroup version the quota came from: 1, 2, or 0 if
	// no CPU controller was found.
	CPUVersion int

	// Memory is the memory limit in bytes (memory.max or memory.high on
	// v2, memory.limit_in_bytes on v1); 0 means no limit.
	Memory int64
	// MemorySource is the file whose limit is effective.
	MemorySource string
	// MemoryVersion is 1, 2 or 0, as CPUVersion.
	MemoryVersion int

	// Notes says what was read and why, in order, for logs.
	Notes []string
}

// String reports the limits and how they were found.
func (l Limits) String() string {
	var b strings.Builder
	b.WriteString("cpu quota: ")
	if l.CPUQuota > 0 {
		b.WriteString(strconv.FormatFloat(l.CPUQuota, 'g', 4, 64) + " CPUs from " + l.CPUSource + " (cgroup v" + strconv.Itoa(l.CPUVersion) + ")")
	} else {
		b.WriteString("none")
	}
	b.WriteString("; memory limit: ")
	if l.Memory > 0 {
		b.WriteString(strconv.FormatInt(l.Memory, 10) + " bytes from " + l.MemorySource + " (cgroup v" + strconv.Itoa(l.MemoryVersion) + ")")
	} else {
		b.WriteString("none")
	}
	for _, n := range l.Notes {
		b.WriteString("\n  " + n)
	}
	return b.String()
}

// GOMAXPROCS returns the GOMAXPROCS that the CPU quota suggests for a
// machine of ncpu usable CPUs, computed as Go 1.25's runtime computes its
// default: the quota rounded up, at least 2, at most ncpu. It only
// suggests and never sets anything; see the package documentation on how
// this interacts with Go's own default.
func (l Limits) GOMAXPROCS(ncpu int) int {
	ncpu = max(ncpu, 1)
	if l.CPUQuota <= 0 {
		return ncpu
	}
	return min(max(int(math.Ceil(l.CPUQuota)), 2), ncpu)
}

// Bounds on what DetectLimits reads, against corrupt or hostile files.
const (
	maxCgroupFile = 1 << 20
	maxWalkDepth  = 64
)

// ErrNoCgroup is wrapped by DetectLimits when the process's cgroup cannot
// be determined at all.
var ErrNoCgroup = errors.New("sched: no cgroup information")

// limReader reads files under root, or from mem when it is set (fuzzing).
type limReader struct {
	root string
	mem  map[string]string
}

func (r limReader) path(p string) string {
	if r.root == "" {
		return filepath.FromSlash(p)
	}
	return filepath.Join(r.root, filepath.FromSlash(p))
}

func (r limReader) read(p string) (string, error) {
	if r.mem != nil {
		s, ok := r.mem[p]
		if !ok {
			return "", os.ErrNotExist
		}
		return strings.TrimSpace(s), nil
	}
	f, err := os.Open(r.path(p))
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCgroupFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxCgroupFile {
		return "", fmt.Errorf("sched: %s: larger than %d bytes", p, maxCgroupFile)
	}
	return strings.TrimSpace(string(b)), nil
}

type cgroupLine struct {
	controllers []string
	path        string
}

type mount struct {
	root, point, fstype string
	superOpts           []string
}

// DetectLimits reads the process's cgroup membership (/proc/self/cgroup),
// finds the cgroup mounts (/proc/self/mountinfo), and walks from the
// process's cgroup up to the root of each hierarchy, taking the most
// restrictive CPU quota and memory limit on the way. A v1 hierarchy with
// the cpu or memory controller is preferred to the v2 one for that
// resource (hybrid systems). Ancestors above a cgroup mount's root (a
// container without a cgroup namespace sees only its own subtree) cannot
// be read; a note says so.
//
// Off Linux it returns an error wrapping errors.ErrUnsupported unless
// cfg.Root is set.
func DetectLimits(cfg LimitsConfig) (Limits, error) {
	var l Limits
	if cfg.Root == "" && runtime.GOOS != "linux" {
		return l, fmt.Errorf("sched: cgroup limits on %s: %w", runtime.GOOS, errors.ErrUnsupported)
	}
	return detectLimits(limReader{root: cfg.Root})
}

func detectLimits(r limReader) (Limits, error) {
	var l Limits
	cg, err := r.read("/proc/self/cgroup")
	if err != nil {
		return l, fmt.Errorf("%w: %w", ErrNoCgroup, err)
	}
	mi, err := r.read("/proc/self/mountinfo")
	if err != nil {
		return l, fmt.Errorf("%w: %w", ErrNoCgroup, err)
	}
	groups := parseProcCgroup(cg)
	mounts := parseMountinfo(mi)

	// CPU.
	if dir, top, ok := v1Dir(groups, mounts, "cpu", &l); ok {
		l.CPUVersion = 1
		walkUp(dir, top, func(d string) bool {
			q, qerr := r.read(d + "/cpu.cfs_quota_us")
			p, perr := r.read(d + "/cpu.cfs_period_us")
			if qerr != nil || perr != nil {
				return true
			}
			quota, e1 := strconv.ParseInt(q, 10, 64)
			period, e2 := strconv.ParseInt(p, 10, 64)
			if e1 != nil || e2 != nil || period <= 0 {
				l.Notes = append(l.Notes, "ignored malformed "+d+"/cpu.cfs_quota_us or cpu.cfs_period_us")
				return true
			}
			if quota > 0 {
				l.noteCPU(float64(quota)/float64(period), d)
			}
			return true
		})
	} else if dir, top, ok := v2Dir(groups, mounts, &l); ok {
		l.CPUVersion = 2
		walkUp(dir, top, func(d string) bool {
			s, err := r.read(d + "/cpu.max")
			if err != nil {
				return true
			}
			f := strings.Fields(s)
			if len(f) == 0 || f[0] == "max" {
				return true
			}
			quota, e1 := strconv.ParseInt(f[0], 10, 64)
			period := int64(100000)
			var e2 error
			if len(f) > 1 {
				period, e2 = strconv.ParseInt(f[1], 10, 64)
			}
			if e1 != nil || e2 != nil || quota <= 0 || period <= 0 {
				l.Notes = append(l.Notes, "ignored malformed "+d+"/cpu.max: "+strconv.Quote(s))
				return true
			}
			l.noteCPU(float64(quota)/float64(period), d)
			return true
		})
	} else {
		l.Notes = append(l.Notes, "no cgroup cpu controller found")
	}

	// Memory.
	if dir, top, ok := v1Dir(groups, mounts, "memory", &l); ok {
		l.MemoryVersion = 1
		walkUp(dir, top, func(d string) bool {
			l.readMem(r, d+"/memory.limit_in_bytes")
			return true
		})
	} else if dir, top, ok := v2Dir(groups, mounts, &l); ok {
		l.MemoryVersion = 2
		walkUp(dir, top, func(d string) bool {
			l.readMem(r, d+"/memory.max")
			l.readMem(r, d+"/memory.high")
			return true
		})
	} else {
		l.Notes = append(l.Notes, "no cgroup memory controller found")
	}
	if l.CPUQuota > 0 {
		l.Notes = append(l.Notes, "cpu quota "+strconv.FormatFloat(l.CPUQuota, 'g', 4, 64)+" CPUs from "+l.CPUSource)
	}
	if l.Memory > 0 {
		l.Notes = append(l.Notes, "memory limit "+strconv.FormatInt(l.Memory, 10)+" bytes from "+l.MemorySource)
	}
	return l, nil
}

// unlimitedV1 is the threshold above which a v1 memory limit means "none"
// (the kernel reports PAGE_COUNTER_MAX pages, about 2^63 bytes).
const unlimitedV1 = 1 << 62

func (l *Limits) readMem(r limReader, file string) {
	s, err := r.read(file)
	if err != nil || s == "max" {
		return
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		l.Notes = append(l.Notes, "ignored malformed "+file+": "+strconv.Quote(s))
		return
	}
	if v >= unlimitedV1 {
		return
	}
	if l.Memory == 0 || v < l.Memory {
		l.Memory, l.MemorySource = v, file
	}
}

func (l *Limits) noteCPU(q float64, dir string) {
	if l.CPUQuota == 0 || q < l.CPUQuota {
		l.CPUQuota, l.CPUSource = q, dir
	}
}

// walkUp calls f for dir and each parent up to and including top.
func walkUp(dir, top string, f func(d string) bool) {
	for i := 0; i < maxWalkDepth; i++ {
		if !f(dir) || dir == top || len(dir) <= len(top) {
			return
		}
		dir = path.Dir(dir)
	}
}

func parseProcCgroup(s string) []cgroupLine {
	var out []cgroupLine
	for _, line := range strings.Split(s, "\n") {
		// hierarchy-ID:controller-list:cgroup-path (the path may hold ':').
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctl, p, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(p, "/") {
			continue
		}
		var ctls []string
		if ctl != "" {
			ctls = strings.Split(ctl, ",")
		}
		out = append(out, cgroupLine{controllers: ctls, path: p})
	}
	return out
}

// parseMountinfo keeps the cgroup and cgroup2 mounts of a
// /proc/self/mountinfo (proc(5)).
func parseMountinfo(s string) []mount {
	var out []mount
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			continue
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		m := mount{root: unescapeMount(f[3]), point: unescapeMount(f[4]), fstype: fstype}
		if sep+3 < len(f) {
			m.superOpts = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount decodes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupDir maps a cgroup path to a directory under a mount, and reports
// the mount point as the top of the walk.
func cgroupDir(m mount, cgPath string, l *Limits) (dir, top string) {
	rel := cgPath
	if m.root != "/" {
		if r, ok := strings.CutPrefix(cgPath, m.root); ok && (r == "" || strings.HasPrefix(r, "/")) {
			rel = r
			l.Notes = append(l.Notes, m.point+" is mounted from "+m.root+": limits above it are not visible")
		} else {
			// A cgroup outside the mounted subtree (foreign cgroup
			// namespace): the mount's own root is the best we can see.
			l.Notes = append(l.Notes, "cgroup "+cgPath+" is outside the subtree mounted at "+m.point+"; reading the mount root")
			rel = ""
		}
	}
	top = path.Clean(m.point)
	dir = path.Clean(top + "/" + rel)
	if !strings.HasPrefix(dir, top) {
		l.Notes = append(l.Notes, "cgroup "+cgPath+" escapes "+m.point+"; reading the mount root")
		dir = top
	}
	return dir, top
}

func v1Dir(groups []cgroupLine, mounts []mount, ctl string, l *Limits) (dir, top string, ok bool) {
	for _, g := range groups {
		if !containsStr(g.controllers, ctl) {
			continue
		}
		for _, m := range mounts {
			if m.fstype == "cgroup" && containsStr(m.superOpts, ctl) {
				dir, top = cgroupDir(m, g.path, l)
				l.Notes = append(l.Notes, ctl+": cgroup v1 "+g.path+" at "+dir)
				return dir, top, true
			}
		}
		l.Notes = append(l.Notes, ctl+": cgroup v1 "+g.path+" but its hierarchy is not mounted")
	}
	return "", "", false
}

func v2Dir(groups []cgroupLine, mounts []mount, l *Limits) (dir, top string, ok bool) {
	for _, g := range groups {
		if len(g.controllers) != 0 {
			continue
		}
		for _, m := range mounts {
			if m.fstype == "cgroup2" {
				dir, top = cgroupDir(m, g.path, l)
				return dir, top, true
			}
		}
		l.Notes = append(l.Notes, "cgroup v2 "+g.path+" but no cgroup2 mount")
	}
	return "", "", false
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
