package numa

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/internal/testutil"
)

// groupCPUs returns the CPUs this test may pin to, skipping with fewer than
// two (steering is then trivially right).
func groupCPUs(t *testing.T) []int {
	t.Helper()
	cpus, err := sys.AppendAffinity(nil)
	testutil.SkipIfUnsupported(t, err)
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skipf("steering needs at least 2 CPUs; affinity is %v", cpus)
	}
	return cpus
}

const perSender = 50

// TestSteerUDP proves steering: for each CPU k of the group, a sender
// pinned to k sends datagrams tagged k, and every one of them must arrive
// on socket k, in each steering mode that gives locality.
func TestSteerUDP(t *testing.T) {
	for _, mode := range []SteerMode{SteerAuto, SteerCBPF, SteerEBPF, SteerIncomingCPU} {
		t.Run(mode.String(), func(t *testing.T) {
			cpus := groupCPUs(t)
			g, err := ListenUDP(context.Background(), "udp4", "127.0.0.1:0", SteerConfig{CPUs: cpus, Mode: mode})
			testutil.SkipIfUnsupported(t, err)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			t.Logf("mode %v: %s", g.Mode(), g.Report())
			if mode != SteerAuto && g.Mode() != mode {
				t.Fatalf("Mode = %v; asked for %v", g.Mode(), mode)
			}
			if g.Mode() == SteerHash {
				t.Skipf("no CPU steering available here: %s", g.Report())
			}
			dst := g.Addr().(*net.UDPAddr)
			errs := make(chan error, len(cpus))
			for _, cpu := range cpus {
				go func() { errs <- sendPinned(cpu, dst) }()
			}
			for range cpus {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i, c := range g.Conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got := map[string]int{}
					buf := make([]byte, 64)
					for {
						c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
						n, _, err := c.ReadFromUDP(buf)
						if err != nil {
							break
						}
						got[string(buf[:n])]++
					}
					want := strconv.Itoa(cpus[i])
					if len(got) != 1 || got[want] != perSender {
						t.Errorf("socket %d (cpu %d) got %v; want %d datagrams all from cpu %s", i, cpus[i], got, perSender, want)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// sendPinned sends perSender datagrams tagged with cpu from a thread pinned
// to cpu; loopback delivery runs the receive path on the sending CPU.
func sendPinned(cpu int, dst *net.UDPAddr) error {
	restore, err := PinCPU(cpu)
	if err != nil {
		return err
	}
	defer restore()
	if got, err := CurrentCPU(); err != nil || got != cpu {
		return errors.New("pinned to cpu " + strconv.Itoa(cpu) + " but running on " + strconv.Itoa(got))
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	msg := []byte(strconv.Itoa(cpu))
	for i := 0; i < perSender; i++ {
		if _, err := c.WriteToUDP(msg, dst); err != nil {
			return err
		}
		if i%10 == 9 {
			time.Sleep(time.Millisecond) // keep well inside the socket buffers
		}
	}
	return nil
}

// TestSteerTCP proves the same for connections: a client pinned to CPU k
// is accepted on listener k.
func TestSteerTCP(t *testing.T) {
	for _, mode := range []SteerMode{SteerCBPF, SteerEBPF} {
		t.Run(mode.String(), func(t *testing.T) {
			cpus := groupCPUs(t)
			g, err := ListenTCP(context.Background(), "tcp4", "127.0.0.1:0", SteerConfig{CPUs: cpus, Mode: mode})
			testutil.SkipIfUnsupported(t, err)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			const conns = 5
			for _, cpu := range cpus {
				errc := make(chan error, 1)
				go func() {
					restore, err := PinCPU(cpu)
					if err != nil {
						errc <- err
						return
					}
					defer restore()
					for i := 0; i < conns; i++ {
						c, err := net.DialTimeout("tcp4", g.Addr().String(), 2*time.Second)
						if err != nil {
							errc <- err
							return
						}
						c.Close()
					}
					errc <- nil
				}()
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				for i, l := range g.Listeners {
					n := 0
					for {
						l.SetDeadline(time.Now().Add(200 * time.Millisecond))
						c, err := l.Accept()
						if err != nil {
							break
						}
						c.Close()
						n++
					}
					want := 0
					if cpus[i] == cpu {
						want = conns
					}
					if n != want {
						t.Errorf("sender on cpu %d: listener %d (cpu %d) accepted %d; want %d", cpu, i, cpus[i], n, want)
					}
				}
			}
		})
	}
}

func TestSteerConfigErrors(t *testing.T) {
	for _, cfg := range []SteerConfig{
		{CPUs: []int{}},
		{CPUs: []int{0, 0}},
		{CPUs: []int{-1}},
		{CPUs: []int{0}, Mode: SteerHash + 1},
	} {
		_, err := ListenUDP(context.Background(), "udp4", "127.0.0.1:0", cfg)
		if !errors.Is(err, ErrBadSteerConfig) {
			t.Errorf("ListenUDP(%+v) err = %v; want ErrBadSteerConfig", cfg, err)
		}
	}
}

// TestCPUSteerCBPF checks the program shapes: the textbook three
// instructions for CPUs 0..n-1 and a jump table otherwise.
func TestCPUSteerCBPF(t *testing.T) {
	p := cpuSteerCBPF([]int{0, 1, 2, 3})
	if len(p) != 3 || p[0].Code != sys.BPFLdWAbs || p[0].K != 0xfffff024 || p[1].K != 4 || p[2].Code != sys.BPFRetA {
		t.Errorf("identity program %+v", p)
	}
	p = cpuSteerCBPF([]int{2, 5})
	if len(p) != 7 || p[1].K != 2 || p[2].K != 0 || p[3].K != 5 || p[4].K != 1 || p[5].K != 2 {
		t.Errorf("table program %+v", p)
	}
}
