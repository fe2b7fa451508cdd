package numa_test

import (
	"fmt"

	"github.com/edgekit/edgekit/numa"
)

// ExampleReadTopology reads a fixture of a two-socket server with SMT.
func ExampleReadTopology() {
	topo, err := numa.ReadTopology(numa.Config{SysRoot: "testdata/x86-2s-smt"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("packages:", len(topo.Packages), "nodes:", len(topo.Nodes), "cores:", topo.Cores(), "smt:", topo.SMT())
	fmt.Println("node 1 cpus:", numa.FormatList(topo.Nodes[1].CPUs))
	fmt.Println("offline:", numa.FormatList(topo.Offline), "line:", topo.CacheLineSize)
	l3, _ := topo.CacheOf(0, 3, numa.CacheUnified)
	fmt.Println("L3 of cpu 0:", l3.Size>>20, "MiB shared by", numa.FormatList(l3.CPUs))
	// Output:
	// packages: 2 nodes: 2 cores: 16 smt: true
	// node 1 cpus: 8-15,24-30
	// offline: 31 line: 64
	// L3 of cpu 0: 11 MiB shared by 0-7,16-23
}
