package coapbench

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout is how long a client waits for a response before it counts
// a timeout and sends its next request (no retransmission).
const requestTimeout = time.Second

// getTime is the request every client sends: CON GET /time with a 4-byte
// token; bytes 2-3 (message id) and 4-7 (token) are set per request.
func getTime() []byte {
	return []byte{
		0x44, 0x01, 0, 0, // ver 1, CON, TKL 4; GET; message id
		0, 0, 0, 0, // token
		0xb4, 't', 'i', 'm', 'e', // Uri-Path (11) "time"
	}
}

// loadResult is the outcome of one load run.
type loadResult struct {
	done     int64 // completed requests
	timeouts int64
	elapsed  time.Duration
	lat      []time.Duration // sorted latencies of the completed requests
}

func (r loadResult) reqPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.done) / r.elapsed.Seconds()
}

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

// loadGen is a set of connected UDP client sockets for one server.
type loadGen struct {
	server netip.AddrPort
	conns  []*net.UDPConn
	mids   []uint16 // last message id used on each socket
	tokens []uint32 // last token used by each client
	lat    [][]time.Duration
}

func newLoadGen(server netip.AddrPort, clients int) (*loadGen, error) {
	g := &loadGen{server: server}
	for range clients {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
		if err != nil {
			g.close()
			return nil, err
		}
		g.conns = append(g.conns, c)
	}
	g.mids = make([]uint16, clients)
	g.tokens = make([]uint32, clients)
	g.lat = make([][]time.Duration, clients)
	return g, nil
}

func (g *loadGen) close() {
	for _, c := range g.conns {
		c.Close()
	}
}

// nextMID returns the next message id of client i. A message id must not
// be reused within EXCHANGE_LIFETIME (RFC 7252 §4.4), or a server answers
// from its deduplication cache; so after 65535 ids the client moves to a
// fresh socket (a new source port is a new endpoint).
func (g *loadGen) nextMID(i int) (uint16, error) {
	if g.mids[i] == 0xffff {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(g.server))
		if err != nil {
			return 0, err
		}
		g.conns[i].Close()
		g.conns[i] = c
		g.mids[i] = 0
	}
	g.mids[i]++
	return g.mids[i], nil
}

// reserve sizes the latency buffers for total requests, so that a measured
// run allocates nothing of its own.
func (g *loadGen) reserve(total int) {
	per := total/len(g.conns) + len(g.conns) + 1
	for i := range g.lat {
		if cap(g.lat[i]) < per {
			g.lat[i] = make([]time.Duration, 0, per)
		}
		g.lat[i] = g.lat[i][:0]
	}
}

var errBadResponse = errors.New("unexpected response")

// run sends total requests spread over the clients and waits for all of
// them.
func (g *loadGen) run(total int) (loadResult, error) {
	g.reserve(total)
	var remaining atomic.Int64
	remaining.Store(int64(total))
	var done, timeouts atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for i := range g.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := getTime()
			var buf [1500]byte
			lat := g.lat[i][:0]
			defer func() { g.lat[i] = lat }()
			for remaining.Add(-1) >= 0 {
				mid, err := g.nextMID(i)
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				c := g.conns[i]
				g.tokens[i]++
				tok := g.tokens[i] + uint32(i)<<24
				req[2], req[3] = byte(mid>>8), byte(mid)
				req[4], req[5], req[6], req[7] = byte(tok>>24), byte(tok>>16), byte(tok>>8), byte(tok)
				t0 := time.Now()
				if _, err := c.Write(req); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				if err := c.SetReadDeadline(t0.Add(requestTimeout)); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				for {
					k, err := c.Read(buf[:])
					if err != nil {
						if errors.Is(err, os.ErrDeadlineExceeded) {
							timeouts.Add(1)
							break
						}
						firstErr.CompareAndSwap(nil, &err)
						return
					}
					// ACK (type 2) with our message id and code 2.05.
					if k < 8 || buf[0]>>4 != 0x6 || buf[2] != req[2] || buf[3] != req[3] {
						continue // a late answer to a request that timed out
					}
					if buf[1] != 0x45 || buf[0]&15 != 4 || string(buf[4:8]) != string(req[4:8]) {
						err := errBadResponse
						firstErr.CompareAndSwap(nil, &err)
						return
					}
					lat = append(lat, time.Since(t0))
					done.Add(1)
					break
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := loadResult{done: done.Load(), timeouts: timeouts.Load(), elapsed: elapsed}
	if p := firstErr.Load(); p != nil {
		return r, *p
	}
	return r, nil
}

// latencies merges and sorts the latencies of the last run. It allocates,
// so call it after the measurement.
func (g *loadGen) latencies() []time.Duration {
	var all []time.Duration
	for _, l := range g.lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return all
}

// heapInUse returns the live heap after a full GC.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
