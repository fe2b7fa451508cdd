//go:build ignore

// gen_fixtures writes the sysfs fixture trees under testdata/ from the
// published topology of four machines. Only the files ReadTopology reads
// are written. Run it from the numa directory:
//
//	go run gen_fixtures.go
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

type cache struct {
	level  int
	typ    string
	size   string
	line   int
	shared func(cpu int) string
}

type machine struct {
	name      string
	cpus      int
	offline   []int
	isolated  string
	pkg, core func(cpu int) int
	siblings  func(cpu int) string
	caches    func(cpu int) []cache
	nodes     []node // nil: kernel without NUMA
}

type node struct {
	cpulist  string
	memKB    int64
	distance string
}

func self(cpu int) string { return strconv.Itoa(cpu) }

func main() {
	// Two Intel Xeon Silver 4208 (Cascade Lake, 8 cores / 16 threads,
	// 32K L1d + 32K L1i + 1M L2 per core, 11M L3 per socket), one NUMA node
	// per socket; Linux numbers the first thread of every core first. CPU
	// 31 is offline (echo 0 > online), so sysfs has no topology for it.
	x86 := machine{
		name: "x86-2s-smt", cpus: 32, offline: []int{31},
		pkg:  func(c int) int { return (c % 16) / 8 },
		core: func(c int) int { return c % 8 },
		siblings: func(c int) string {
			b := c % 16
			return fmt.Sprintf("%d,%d", b, b+16)
		},
		caches: func(c int) []cache {
			b := c % 16
			core := func(int) string { return fmt.Sprintf("%d,%d", b, b+16) }
			p := (c % 16) / 8
			sock := func(int) string {
				if p == 0 {
					return "0-7,16-23"
				}
				return "8-15,24-30"
			}
			return []cache{
				{1, "Data", "32K", 64, core},
				{1, "Instruction", "32K", 64, core},
				{2, "Unified", "1024K", 64, core},
				{3, "Unified", "11264K", 64, sock},
			}
		},
		nodes: []node{
			{"0-7,16-23", 97_514_700, "10 21"},
			{"8-15,24-30", 98_541_316, "21 10"},
		},
	}
	// Raspberry Pi 4 (BCM2711: 4 Cortex-A72, 32K L1d + 48K L1i per core,
	// 1M shared L2); its kernel is built without NUMA.
	rpi := machine{
		name: "rpi4", cpus: 4,
		pkg:      func(int) int { return 0 },
		core:     func(c int) int { return c },
		siblings: self,
		caches: func(c int) []cache {
			return []cache{
				{1, "Data", "32K", 64, self},
				{1, "Instruction", "48K", 64, self},
				{2, "Unified", "1024K", 64, func(int) string { return "0-3" }},
			}
		},
	}
	// Ampere Altra Q80 (80 Neoverse N1 cores, 64K L1d + 64K L1i + 1M L2
	// per core) in quadrant mode: four NUMA nodes of 20 CPUs, 64 GiB each.
	// CPUs 76-79 are isolated (isolcpus=76-79).
	altra := machine{
		name: "altra-q80-quadrant", cpus: 80, isolated: "76-79",
		pkg:      func(int) int { return 0 },
		core:     func(c int) int { return c },
		siblings: self,
		caches: func(c int) []cache {
			return []cache{
				{1, "Data", "64K", 64, self},
				{1, "Instruction", "64K", 64, self},
				{2, "Unified", "1024K", 64, self},
			}
		},
		nodes: []node{
			{"0-19", 66_804_896, "10 12 12 12"},
			{"20-39", 67_050_688, "12 10 12 12"},
			{"40-59", 67_050_688, "12 12 10 12"},
			{"60-79", 67_048_064, "12 12 12 10"},
		},
	}
	// An Apple M1-class arm64 machine under Linux: 4 efficiency cores
	// (64K L1d, 128K L1i, 4M shared L2) and 4 performance cores (128K L1d,
	// 192K L1i, 12M shared L2), 128-byte cache lines, no NUMA.
	apple := machine{
		name: "arm64-128b-line", cpus: 8,
		pkg:      func(int) int { return 0 },
		core:     func(c int) int { return c },
		siblings: self,
		caches: func(c int) []cache {
			if c < 4 {
				return []cache{
					{1, "Data", "64K", 128, self},
					{1, "Instruction", "128K", 128, self},
					{2, "Unified", "4096K", 128, func(int) string { return "0-3" }},
				}
			}
			return []cache{
				{1, "Data", "128K", 128, self},
				{1, "Instruction", "192K", 128, self},
				{2, "Unified", "12288K", 128, func(int) string { return "4-7" }},
			}
		},
	}
	for _, m := range []machine{x86, rpi, altra, apple} {
		if err := write(m); err != nil {
			log.Fatal(err)
		}
	}
}

func write(m machine) error {
	root := filepath.Join("testdata", m.name)
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	put := func(rel, content string) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content+"\n"), 0o644)
	}
	cpu := "devices/system/cpu/"
	var online []string
	offline := map[int]bool{}
	for _, c := range m.offline {
		offline[c] = true
	}
	possible := fmt.Sprintf("0-%d", m.cpus-1)
	onl := possible
	if len(m.offline) > 0 {
		onl = fmt.Sprintf("0-%d", m.offline[0]-1) // offline CPUs are the last ones
	}
	online = append(online, onl)
	for rel, v := range map[string]string{"possible": possible, "online": strings.Join(online, ","), "isolated": m.isolated} {
		if err := put(cpu+rel, v); err != nil {
			return err
		}
	}
	for c := 0; c < m.cpus; c++ {
		if offline[c] {
			continue
		}
		d := fmt.Sprintf("%scpu%d/", cpu, c)
		files := map[string]string{
			"topology/physical_package_id":  strconv.Itoa(m.pkg(c)),
			"topology/core_id":              strconv.Itoa(m.core(c)),
			"topology/thread_siblings_list": m.siblings(c),
		}
		for i, ca := range m.caches(c) {
			x := fmt.Sprintf("cache/index%d/", i)
			files[x+"level"] = strconv.Itoa(ca.level)
			files[x+"type"] = ca.typ
			files[x+"size"] = ca.size
			files[x+"coherency_line_size"] = strconv.Itoa(ca.line)
			files[x+"shared_cpu_list"] = ca.shared(c)
		}
		for rel, v := range files {
			if err := put(d+rel, v); err != nil {
				return err
			}
		}
	}
	if m.nodes == nil {
		return nil
	}
	nd := "devices/system/node/"
	if err := put(nd+"online", fmt.Sprintf("0-%d", len(m.nodes)-1)); err != nil {
		return err
	}
	for i, n := range m.nodes {
		d := fmt.Sprintf("%snode%d/", nd, i)
		mem := fmt.Sprintf("Node %d MemTotal:       %d kB\nNode %d MemFree:        %d kB", i, n.memKB, i, n.memKB/2)
		for rel, v := range map[string]string{"cpulist": n.cpulist, "meminfo": mem, "distance": n.distance} {
			if err := put(d+rel, v); err != nil {
				return err
			}
		}
	}
	return nil
}
