package numa

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// DefaultSysRoot is where sysfs is mounted.
const DefaultSysRoot = "/sys"

// Config says where to read the topology from. The zero value reads the
// live machine.
type Config struct {
	// SysRoot is the sysfs mount point; "" means DefaultSysRoot. Tests
	// point it at a fixture tree.
	SysRoot string
}

// Topology is a snapshot of the machine's CPUs, caches and NUMA nodes, read
// from sysfs (Documentation/ABI/stable/sysfs-devices-system-cpu and
// sysfs-devices-node). It is a plain value: safe to share once read, and
// never updated (read it again after CPU hotplug).
type Topology struct {
	// CPUs lists every possible CPU in ascending ID order, online or not.
	CPUs []CPU
	// Nodes lists the online NUMA nodes in ascending ID order. Without NUMA
	// support in the kernel (NUMA is false) it holds one node 0 with every
	// CPU and unknown memory.
	Nodes []Node
	// Packages lists the physical packages (sockets) in ascending ID order.
	Packages []Package
	// Caches lists every distinct cache once, ordered by first CPU, level
	// and type.
	Caches []Cache

	// Possible, Online, Offline and Isolated are CPU ID lists. Isolated
	// CPUs (isolcpus=) are online but kept away from the general scheduler:
	// pin latency-critical workers there.
	Possible, Online, Offline, Isolated []int

	// NUMA reports whether the kernel exposes NUMA nodes.
	NUMA bool
	// CacheLineSize is the largest coherency line size of any cache, the
	// padding that keeps hot fields from sharing a line; 64 if sysfs has
	// no cache information.
	CacheLineSize int
}

// CPU describes one logical CPU. Fields that sysfs does not report for it
// (typically for an offline CPU) are -1 or nil.
type CPU struct {
	ID       int
	Online   bool
	Isolated bool
	Node     int // NUMA node, -1 if unknown
	Package  int // physical package (socket) id, -1 if unknown
	Core     int // core id within the package, -1 if unknown
	// Siblings are the SMT threads of this CPU's core, itself included.
	Siblings []int
	// Caches index Topology.Caches, from L1 up.
	Caches []int
}

// Node is a NUMA node.
type Node struct {
	ID   int
	CPUs []int
	// MemTotal is the node's memory in bytes, 0 if unknown.
	MemTotal int64
	// Distances is the node's row of the SLIT distance table, indexed by
	// position in Topology.Nodes; nil if unknown.
	Distances []int
}

// Package is a physical package (socket).
type Package struct {
	ID   int
	CPUs []int
	// Cores is the number of distinct cores (SMT sibling groups).
	Cores int
}

// CacheType is what a cache holds.
type CacheType uint8

const (
	CacheUnified CacheType = iota
	CacheData
	CacheInstruction
)

func (t CacheType) String() string {
	switch t {
	case CacheData:
		return "Data"
	case CacheInstruction:
		return "Instruction"
	}
	return "Unified"
}

// Cache is one cache shared by CPUs.
type Cache struct {
	Level    int
	Type     CacheType
	Size     int64 // bytes, 0 if unknown
	LineSize int   // coherency line size in bytes, 0 if unknown
	CPUs     []int
}

// CPU returns the CPU with the given ID.
func (t *Topology) CPU(id int) (CPU, bool) {
	for _, c := range t.CPUs {
		if c.ID == id {
			return c, true
		}
	}
	return CPU{}, false
}

// Node returns the node with the given ID.
func (t *Topology) Node(id int) (Node, bool) {
	for _, n := range t.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// SMT reports whether any core has more than one hardware thread.
func (t *Topology) SMT() bool {
	for _, c := range t.CPUs {
		if len(c.Siblings) > 1 {
			return true
		}
	}
	return false
}

// Cores returns the number of physical cores with at least one online CPU.
func (t *Topology) Cores() int {
	seen := map[[2]int]bool{}
	n := 0
	for _, c := range t.CPUs {
		if !c.Online {
			continue
		}
		k := [2]int{c.Package, c.Core}
		if c.Core < 0 {
			k = [2]int{-2, c.ID}
		}
		if !seen[k] {
			seen[k] = true
			n++
		}
	}
	return n
}

// OneThreadPerCore returns the lowest online CPU of each core, so that
// workers pinned to them do not share a core's execution units.
func (t *Topology) OneThreadPerCore() []int {
	var out []int
	for _, c := range t.CPUs {
		if !c.Online {
			continue
		}
		first := c.ID
		for _, s := range c.Siblings {
			if s < first {
				if sc, ok := t.CPU(s); ok && sc.Online {
					first = s
				}
			}
		}
		if first == c.ID {
			out = append(out, c.ID)
		}
	}
	return out
}

// CacheOf returns the cache of the given level and type that serves cpu.
func (t *Topology) CacheOf(cpu, level int, typ CacheType) (Cache, bool) {
	c, ok := t.CPU(cpu)
	if !ok {
		return Cache{}, false
	}
	for _, i := range c.Caches {
		if t.Caches[i].Level == level && t.Caches[i].Type == typ {
			return t.Caches[i], true
		}
	}
	return Cache{}, false
}

// ErrNoTopology is returned when the sysfs root has no CPU information.
var ErrNoTopology = errors.New("numa: no cpu topology in sysfs")

type sysReader struct{ root string }

func (r sysReader) read(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	if len(b) > 64<<10 {
		return "", fmt.Errorf("numa: %s: file too large", rel)
	}
	return strings.TrimSpace(string(b)), nil
}

func (r sysReader) readInt(rel string) (int, error) {
	s, err := r.read(rel)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}

func (r sysReader) readList(rel string) ([]int, error) {
	s, err := r.read(rel)
	if err != nil {
		return nil, err
	}
	l, err := parseList(s)
	if err != nil {
		return nil, fmt.Errorf("numa: %s: %w", rel, err)
	}
	return l, nil
}

// ReadTopology reads the CPU, cache and NUMA topology from sysfs under
// cfg.SysRoot. Off Linux, with the default root, it returns an error
// wrapping errors.ErrUnsupported.
func ReadTopology(cfg Config) (*Topology, error) {
	root := cfg.SysRoot
	if root == "" {
		if runtime.GOOS != "linux" {
			return nil, fmt.Errorf("numa: topology from sysfs on %s: %w", runtime.GOOS, errors.ErrUnsupported)
		}
		root = DefaultSysRoot
	}
	r := sysReader{root: root}
	const cpuDir = "devices/system/cpu/"
	possible, err := r.readList(cpuDir + "possible")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w under %s", ErrNoTopology, root)
		}
		return nil, err
	}
	t := &Topology{Possible: possible}
	if t.Online, err = r.readList(cpuDir + "online"); errors.Is(err, os.ErrNotExist) {
		t.Online = possible
	} else if err != nil {
		return nil, err
	}
	t.Offline = minus(possible, t.Online)
	if t.Isolated, err = r.readList(cpuDir + "isolated"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}

	for _, id := range possible {
		c := CPU{ID: id, Online: contains(t.Online, id), Isolated: contains(t.Isolated, id), Node: -1, Package: -1, Core: -1}
		dir := cpuDir + "cpu" + strconv.Itoa(id) + "/"
		if v, err := r.readInt(dir + "topology/physical_package_id"); err == nil {
			c.Package = v
		}
		if v, err := r.readInt(dir + "topology/core_id"); err == nil {
			c.Core = v
		}
		if l, err := r.readList(dir + "topology/thread_siblings_list"); err == nil {
			c.Siblings = l
		}
		if err := t.readCaches(r, &c, dir+"cache/"); err != nil {
			return nil, err
		}
		t.CPUs = append(t.CPUs, c)
	}
	if err := t.readNodes(r); err != nil {
		return nil, err
	}
	t.buildPackages()
	t.CacheLineSize = 0
	for _, c := range t.Caches {
		t.CacheLineSize = max(t.CacheLineSize, c.LineSize)
	}
	if t.CacheLineSize == 0 {
		t.CacheLineSize = 64
	}
	return t, nil
}

// maxCacheIndex bounds the cache/indexN directories read per CPU.
const maxCacheIndex = 16

func (t *Topology) readCaches(r sysReader, c *CPU, dir string) error {
	for i := 0; i < maxCacheIndex; i++ {
		d := dir + "index" + strconv.Itoa(i) + "/"
		level, err := r.readInt(d + "level")
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("numa: %slevel: %w", d, err)
		}
		typStr, _ := r.read(d + "type")
		typ := CacheUnified
		switch typStr {
		case "Data":
			typ = CacheData
		case "Instruction":
			typ = CacheInstruction
		}
		shared, err := r.readList(d + "shared_cpu_list")
		if err != nil || len(shared) == 0 {
			shared = []int{c.ID}
		}
		idx := -1
		for k, have := range t.Caches {
			if have.Level == level && have.Type == typ && equalInts(have.CPUs, shared) {
				idx = k
				break
			}
		}
		if idx < 0 {
			nc := Cache{Level: level, Type: typ, CPUs: shared}
			if s, err := r.read(d + "size"); err == nil {
				nc.Size = parseSize(s)
			}
			if v, err := r.readInt(d + "coherency_line_size"); err == nil && v > 0 {
				nc.LineSize = v
			}
			idx = len(t.Caches)
			t.Caches = append(t.Caches, nc)
		}
		c.Caches = append(c.Caches, idx)
	}
	return nil
}

// parseSize parses a sysfs cache size such as "32K", "1024K" or "12M".
func parseSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > 1<<40/mult {
		return 0
	}
	return v * mult
}

func (t *Topology) readNodes(r sysReader) error {
	const nodeDir = "devices/system/node/"
	online, err := r.readList(nodeDir + "online")
	if errors.Is(err, os.ErrNotExist) {
		// No NUMA in this kernel: one node holds everything.
		t.Nodes = []Node{{ID: 0, CPUs: append([]int(nil), t.Online...)}}
		for i := range t.CPUs {
			t.CPUs[i].Node = 0
		}
		return nil
	}
	if err != nil {
		return err
	}
	t.NUMA = true
	for _, id := range online {
		d := nodeDir + "node" + strconv.Itoa(id) + "/"
		n := Node{ID: id}
		if n.CPUs, err = r.readList(d + "cpulist"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if s, err := r.read(d + "meminfo"); err == nil {
			n.MemTotal = parseMemTotal(s)
		}
		if s, err := r.read(d + "distance"); err == nil {
			for _, f := range strings.Fields(s) {
				v, err := strconv.Atoi(f)
				if err != nil {
					n.Distances = nil
					break
				}
				n.Distances = append(n.Distances, v)
			}
		}
		for _, cpu := range n.CPUs {
			for i := range t.CPUs {
				if t.CPUs[i].ID == cpu {
					t.CPUs[i].Node = id
				}
			}
		}
		t.Nodes = append(t.Nodes, n)
	}
	return nil
}

// parseMemTotal finds "Node N MemTotal: X kB" in a node's meminfo.
func parseMemTotal(s string) int64 {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == "MemTotal:" {
			v, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil || v < 0 || v > 1<<50 {
				return 0
			}
			if len(f) >= 5 && f[4] == "kB" {
				v <<= 10
			}
			return v
		}
	}
	return 0
}

func (t *Topology) buildPackages() {
	for _, c := range t.CPUs {
		if c.Package < 0 {
			continue
		}
		k := -1
		for i := range t.Packages {
			if t.Packages[i].ID == c.Package {
				k = i
			}
		}
		if k < 0 {
			k = len(t.Packages)
			t.Packages = append(t.Packages, Package{ID: c.Package})
		}
		p := &t.Packages[k]
		p.CPUs = append(p.CPUs, c.ID)
		first := c.ID
		for _, s := range c.Siblings {
			first = min(first, s)
		}
		if first == c.ID {
			p.Cores++
		}
	}
	for i := 1; i < len(t.Packages); i++ {
		for j := i; j > 0 && t.Packages[j].ID < t.Packages[j-1].ID; j-- {
			t.Packages[j], t.Packages[j-1] = t.Packages[j-1], t.Packages[j]
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
