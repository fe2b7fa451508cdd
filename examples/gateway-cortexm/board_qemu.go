//go:build tinygo && lm3s6965

package main

// The board file for QEMU's lm3s6965evb (Stellaris LM3S6965, run with
// -cpu cortex-m4): UART0 is the console (println), UART1 the MQTT uplink,
// UART2 the radio. QEMU connects each UART to what its -serial option names,
// e.g. a TCP socket. The UARTs are PL011-compatible; the clock is SysTick,
// polled (no interrupts), since TinyGo's runtime on this machine has no
// timer of its own.

import (
	"runtime"
	"runtime/volatile"
	"time"
	"unsafe"

	"github.com/edgekit/edgekit/ringbuf"
)

const (
	uart1Base = 0x4000d000
	uart2Base = 0x4000e000
	uartDR    = 0x00
	uartFR    = 0x18
	uartLCRH  = 0x2c
	uartCR    = 0x30
	frRXFE    = 1 << 4
	frTXFF    = 1 << 5

	sysctlRCGC1 = 0x400fe104

	systCSR = 0xe000e010
	systRVR = 0xe000e014
	systCVR = 0xe000e018
	// sysTickHz is the SysTick clock (the processor clock) of the emulated
	// board: 12 MHz.
	sysTickHz = 12_000_000

	statsEvery = 5 * time.Second
)

func reg(addr uintptr) *volatile.Register32 {
	return (*volatile.Register32)(unsafe.Pointer(addr))
}

// uart is one PL011 UART.
type uart struct{ base uintptr }

func (u uart) init() {
	reg(u.base + uartCR).Set(0)
	reg(u.base + uartLCRH).Set(0x70) // 8 bits, FIFOs on
	reg(u.base + uartCR).Set(0x301)  // UARTEN | TXE | RXE
}

// Write writes p, waiting while the transmit FIFO is full.
func (u uart) Write(p []byte) (int, error) {
	dr, fr := reg(u.base+uartDR), reg(u.base+uartFR)
	for _, c := range p {
		for fr.Get()&frTXFF != 0 {
		}
		dr.Set(uint32(c))
	}
	return len(p), nil
}

// drain moves the received bytes into the ring, as many as it has room for.
func (u uart) drain(r *ringbuf.Bytes, tmp *[32]byte) {
	dr, fr := reg(u.base+uartDR), reg(u.base+uartFR)
	for {
		n := 0
		room := min(r.Available(), len(tmp))
		for n < room && fr.Get()&frRXFE == 0 {
			tmp[n] = byte(dr.Get())
			n++
		}
		if n == 0 {
			return
		}
		r.TryWrite(tmp[:n])
	}
}

// clock is a monotonic clock from the 24-bit SysTick down-counter, polled
// often enough (every Poll) that it never wraps twice between two reads.
type clock struct {
	epoch time.Time
	ticks uint64
	last  uint32
}

func (c *clock) init() {
	reg(systRVR).Set(0xffffff)
	reg(systCVR).Set(0)
	reg(systCSR).Set(5) // enable, processor clock, no interrupt
	c.last = reg(systCVR).Get()
	c.epoch = time.Unix(1_700_000_000, 0)
}

func (c *clock) now() time.Time {
	cur := reg(systCVR).Get()
	c.ticks += uint64((c.last - cur) & 0xffffff)
	c.last = cur
	return c.epoch.Add(time.Duration(c.ticks * 1000 / (sysTickHz / 1_000_000)))
}

var (
	clk      clock
	memStats runtime.MemStats
	rxTmp    [32]byte
	// lastMallocs is the heap counter heapTrace compares with.
	lastMallocs uint64
)

func heapStats() (mallocs, inuse uint64) {
	runtime.ReadMemStats(&memStats)
	return memStats.Mallocs, memStats.HeapInuse
}

func main() {
	clk.init()
	reg(sysctlRCGC1).Set(reg(sysctlRCGC1).Get() | 0x7) // clock UART0-2
	mqttUART, radioUART := uart{uart1Base}, uart{uart2Base}
	mqttUART.init()
	radioUART.init()

	cfg := provisioned()
	cfg.HeapStats = heapStats
	runtime.GC()
	_, h0 := heapStats()
	g, err := New(cfg, radioUART, mqttUART)
	if err != nil {
		println("gw: config:", err.Error())
		return
	}
	runtime.GC() // drop start-up garbage (key derivation), so heap is the live set
	m, h := heapStats()
	lastMallocs = m
	println("gw: started; heap", h, "bytes (runtime", h0, "+ gateway", h-h0, "); mallocs", m)
	nextStats := clk.now().Add(statsEvery)
	for {
		mqttUART.drain(g.MQTTIn(), &rxTmp)
		radioUART.drain(g.RadioIn(), &rxTmp)
		now := clk.now()
		g.Poll(now)
		if heapTrace {
			if m, _ := heapStats(); m != lastMallocs {
				st := g.Stats()
				println("gw: heap grew", lastMallocs, "->", m, "rx", st.MeshRx, "delivered", st.Delivered,
					"published", st.Published, "acked", st.Acked, "commands", st.Commands, "meshtx", st.MeshTx,
					"connects", st.Connects, "relayed", st.Relayed, "acks", st.AcksSent)
				lastMallocs = m
			}
		}
		if !now.Before(nextStats) {
			nextStats = now.Add(statsEvery)
			st := g.Stats()
			m, h := heapStats()
			println("gw: rx", st.MeshRx, "published", st.Published, "acked", st.Acked,
				"commands", st.Commands, "meshtx", st.MeshTx, "mallocs", m, "heap", h)
		}
	}
}
