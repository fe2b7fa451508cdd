package numa

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/internal/testutil"
)

func readFixture(t *testing.T, name string) *Topology {
	t.Helper()
	topo, err := ReadTopology(Config{SysRoot: filepath.Join("testdata", name)})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func span(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func TestTopologyX86TwoSocketSMT(t *testing.T) {
	topo := readFixture(t, "x86-2s-smt")
	if len(topo.CPUs) != 32 || !slices.Equal(topo.Online, span(0, 30)) || !slices.Equal(topo.Offline, []int{31}) {
		t.Fatalf("cpus %d online %v offline %v", len(topo.CPUs), topo.Online, topo.Offline)
	}
	if !topo.NUMA || len(topo.Nodes) != 2 || len(topo.Packages) != 2 {
		t.Fatalf("NUMA %v nodes %d packages %d", topo.NUMA, len(topo.Nodes), len(topo.Packages))
	}
	if !topo.SMT() || topo.Cores() != 16 {
		t.Errorf("SMT %v cores %d; want true, 16", topo.SMT(), topo.Cores())
	}
	c, _ := topo.CPU(20)
	if c.Package != 0 || c.Core != 4 || c.Node != 0 || !slices.Equal(c.Siblings, []int{4, 20}) || !c.Online {
		t.Errorf("cpu20 = %+v", c)
	}
	c, _ = topo.CPU(25)
	if c.Package != 1 || c.Node != 1 {
		t.Errorf("cpu25 = %+v; want package 1 node 1", c)
	}
	off, _ := topo.CPU(31)
	if off.Online || off.Node != -1 || off.Package != -1 || off.Core != -1 || off.Siblings != nil {
		t.Errorf("offline cpu31 = %+v; want unknown placement", off)
	}
	l3, ok := topo.CacheOf(9, 3, CacheUnified)
	if !ok || l3.Size != 11264<<10 || !slices.Equal(l3.CPUs, append(span(8, 15), span(24, 30)...)) {
		t.Errorf("L3 of cpu9 = %+v, %v", l3, ok)
	}
	l1d, ok := topo.CacheOf(3, 1, CacheData)
	if !ok || l1d.Size != 32<<10 || l1d.LineSize != 64 || !slices.Equal(l1d.CPUs, []int{3, 19}) {
		t.Errorf("L1d of cpu3 = %+v, %v", l1d, ok)
	}
	// 16 cores x (L1d, L1i, L2) + 2 L3, each listed once.
	if len(topo.Caches) != 16*3+2 {
		t.Errorf("%d caches; want 50", len(topo.Caches))
	}
	if topo.Nodes[1].MemTotal != 98_541_316<<10 || !slices.Equal(topo.Nodes[1].Distances, []int{21, 10}) {
		t.Errorf("node1 = %+v", topo.Nodes[1])
	}
	if p := topo.Packages[1]; p.Cores != 8 || len(p.CPUs) != 15 {
		t.Errorf("package1 = %+v; want 8 cores, 15 online cpus", p)
	}
	if got := topo.OneThreadPerCore(); !slices.Equal(got, span(0, 15)) {
		t.Errorf("OneThreadPerCore = %v", got)
	}
	if topo.CacheLineSize != 64 {
		t.Errorf("CacheLineSize %d", topo.CacheLineSize)
	}
}

func TestTopologyRaspberryPi4(t *testing.T) {
	topo := readFixture(t, "rpi4")
	if topo.NUMA || len(topo.Nodes) != 1 || !slices.Equal(topo.Nodes[0].CPUs, span(0, 3)) || topo.Nodes[0].MemTotal != 0 {
		t.Fatalf("NUMA %v nodes %+v; want one pseudo-node", topo.NUMA, topo.Nodes)
	}
	if topo.SMT() || topo.Cores() != 4 || len(topo.Packages) != 1 || topo.Packages[0].Cores != 4 {
		t.Errorf("SMT %v cores %d packages %+v", topo.SMT(), topo.Cores(), topo.Packages)
	}
	l1i, _ := topo.CacheOf(2, 1, CacheInstruction)
	l2, _ := topo.CacheOf(2, 2, CacheUnified)
	if l1i.Size != 48<<10 || l2.Size != 1<<20 || !slices.Equal(l2.CPUs, span(0, 3)) {
		t.Errorf("L1i %+v L2 %+v", l1i, l2)
	}
	if len(topo.Isolated) != 0 || len(topo.Offline) != 0 {
		t.Errorf("isolated %v offline %v", topo.Isolated, topo.Offline)
	}
}

func TestTopologyAltraQuadrant(t *testing.T) {
	topo := readFixture(t, "altra-q80-quadrant")
	if len(topo.CPUs) != 80 || len(topo.Packages) != 1 || topo.Packages[0].Cores != 80 || topo.SMT() {
		t.Fatalf("cpus %d packages %+v SMT %v", len(topo.CPUs), len(topo.Packages), topo.SMT())
	}
	if !topo.NUMA || len(topo.Nodes) != 4 {
		t.Fatalf("nodes %d; want 4 (quadrant)", len(topo.Nodes))
	}
	for i, n := range topo.Nodes {
		if !slices.Equal(n.CPUs, span(20*i, 20*i+19)) || n.MemTotal < 60<<30 || n.Distances[i] != 10 {
			t.Errorf("node %d = cpus %v mem %d dist %v", i, FormatList(n.CPUs), n.MemTotal, n.Distances)
		}
	}
	if c, _ := topo.CPU(45); c.Node != 2 {
		t.Errorf("cpu45 node %d; want 2", c.Node)
	}
	if !slices.Equal(topo.Isolated, span(76, 79)) {
		t.Errorf("isolated %v", topo.Isolated)
	}
	if c, _ := topo.CPU(77); !c.Isolated || !c.Online {
		t.Errorf("cpu77 = %+v; want isolated and online", c)
	}
	if len(topo.Caches) != 240 {
		t.Errorf("%d caches; want 240 private caches", len(topo.Caches))
	}
	if _, ok := topo.CacheOf(0, 3, CacheUnified); ok {
		t.Error("found an L3; the fixture has none")
	}
}

func TestTopologyArm64LargeLines(t *testing.T) {
	topo := readFixture(t, "arm64-128b-line")
	if topo.CacheLineSize != 128 {
		t.Errorf("CacheLineSize %d; want 128", topo.CacheLineSize)
	}
	e, _ := topo.CacheOf(1, 1, CacheData)
	p, _ := topo.CacheOf(6, 1, CacheData)
	if e.Size != 64<<10 || p.Size != 128<<10 {
		t.Errorf("L1d E-core %d P-core %d", e.Size, p.Size)
	}
	l2, _ := topo.CacheOf(6, 2, CacheUnified)
	if l2.Size != 12<<20 || !slices.Equal(l2.CPUs, span(4, 7)) {
		t.Errorf("P-cluster L2 %+v", l2)
	}
}

func TestTopologyMissingRoot(t *testing.T) {
	_, err := ReadTopology(Config{SysRoot: t.TempDir()})
	if !errors.Is(err, ErrNoTopology) {
		t.Fatalf("err = %v; want ErrNoTopology", err)
	}
}

func TestTopologyMalformed(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "devices", "system", "cpu")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "possible"), []byte("0-x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTopology(Config{SysRoot: root}); !errors.Is(err, errBadList) {
		t.Fatalf("err = %v; want a malformed-list error", err)
	}
}

// TestTopologyLive reads this machine's sysfs and checks it against what the
// kernel says through other doors: the affinity mask and getcpu.
func TestTopologyLive(t *testing.T) {
	topo, err := ReadTopology(Config{})
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Online) < 1 || len(topo.Online) > len(topo.Possible) {
		t.Fatalf("online %v possible %v", topo.Online, topo.Possible)
	}
	aff, err := sys.AppendAffinity(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range aff {
		if !contains(topo.Online, c) {
			t.Errorf("cpu %d in our affinity mask but not online (%v)", c, topo.Online)
		}
	}
	if runtime.NumCPU() > len(topo.Online) {
		t.Errorf("runtime.NumCPU %d > online %d", runtime.NumCPU(), len(topo.Online))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu, node, err := sys.Getcpu()
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := topo.CPU(cpu); !ok || (topo.NUMA && c.Node != node) {
		t.Errorf("getcpu = cpu %d node %d; topology says %+v", cpu, node, c)
	}
	t.Logf("live: %d cpus online %s, %d nodes, %d packages, %d cores, SMT %v, %d caches, line %d, isolated %q",
		len(topo.Online), FormatList(topo.Online), len(topo.Nodes), len(topo.Packages), topo.Cores(), topo.SMT(), len(topo.Caches), topo.CacheLineSize, FormatList(topo.Isolated))
}

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"", nil, false},
		{"0", []int{0}, false},
		{"0-3,8,10-11\n", []int{0, 1, 2, 3, 8, 10, 11}, false},
		{"5,1-2,2", []int{1, 2, 5}, false},
		{"3-1", nil, true},
		{"-1", nil, true},
		{"1,,2", nil, true},
		{"0-99999999", nil, true},
	} {
		got, err := parseList(tc.in)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("parseList(%q) = %v, %v", tc.in, got, err)
		}
	}
	if s := FormatList([]int{0, 1, 2, 3, 8, 10, 11}); s != "0-3,8,10-11" {
		t.Errorf("FormatList = %q", s)
	}
}

// FuzzParseList checks that parseList never panics and that its output
// round-trips through FormatList.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-3,8", "", "1,2,3", "0-65535", "7-", ",", "2-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseList(s)
		if err != nil {
			return
		}
		back, err := parseList(FormatList(l))
		if err != nil || !slices.Equal(back, l) {
			t.Fatalf("round trip %q -> %v -> %q -> %v, %v", s, l, FormatList(l), back, err)
		}
	})
}
