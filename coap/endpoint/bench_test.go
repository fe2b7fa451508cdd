package endpoint

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
)

func benchMux() *Mux {
	mux := NewMux()
	mux.HandleFunc(coap.GET, "/bench", func(w *ResponseWriter, r *Request) {
		w.SetContentFormat(coap.TextPlain)
		w.WriteString("hello")
	})
	return mux
}

// BenchmarkServerHandle measures the server's per-request path without
// sockets (decode, dedup, mux, encode, cache).
func BenchmarkServerHandle(b *testing.B) {
	_, w, _ := memServer(b, Config{Handler: benchMux()})
	var m coap.Message
	m.Type, m.Code = coap.Confirmable, coap.GET
	m.Token, _ = coap.TokenFrom([]byte{1, 2, 3, 4})
	m.SetPath("/bench")
	in, _ := m.AppendBinary(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	peer := testPeer
	for i := 0; i < b.N; i++ {
		if i&0xffff == 0 && i > 0 {
			// A new client port each time the 16-bit Message ID wraps, so
			// that no request is a duplicate answered from the cache.
			peer = netip.AddrPortFrom(testPeer.Addr(), testPeer.Port()+uint16(i>>16))
		}
		in[2], in[3] = byte(i>>8), byte(i)
		w.handle(in, peer)
	}
}

// BenchmarkServerLoopback: GOMAXPROCS*4 raw UDP clients, each with its
// own socket, send CON GETs one at a time to our server over loopback and
// wait for the piggybacked ACK. Reports requests/s and the heap retained
// per completed request.
func BenchmarkServerLoopback(b *testing.B) {
	srv := startEndpoint(b, Config{Handler: benchMux(), MaxDedup: 4096})
	benchRawUDP(b, srv.LocalAddr().(*net.UDPAddr), "/bench")
}

// benchRawUDP drives a CoAP server at addr with parallel raw UDP clients
// sending CON GET path, one outstanding request each.
func benchRawUDP(b *testing.B, addr *net.UDPAddr, path string) {
	var m coap.Message
	m.Type, m.Code = coap.Confirmable, coap.GET
	m.Token, _ = coap.TokenFrom([]byte{1, 2, 3, 4})
	m.SetPath(path)
	tmpl, _ := m.AppendBinary(nil)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var fails atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialUDP("udp4", nil, addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		req := append([]byte(nil), tmpl...)
		buf := make([]byte, 1500)
		mid := uint16(0)
		for pb.Next() {
			mid++
			req[2], req[3] = byte(mid>>8), byte(mid)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := c.Write(req); err != nil {
				fails.Add(1)
				continue
			}
			for {
				n, err := c.Read(buf)
				if err != nil {
					fails.Add(1)
					break
				}
				if n >= 4 && buf[2] == req[2] && buf[3] == req[3] {
					break
				}
			}
		}
	})
	el := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	retained := float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / float64(b.N)
	b.ReportMetric(retained, "B-retained/req")
	if f := fails.Load(); f > int64(b.N)/100 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
}

// BenchmarkClientServer: our client and our server over loopback, one
// client endpoint per goroutine.
func BenchmarkClientServer(b *testing.B) {
	srv := startEndpoint(b, Config{Handler: benchMux()})
	peer := addrOf(srv)
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		cli, err := Listen("udp4", "127.0.0.1:0", Config{Workers: 1})
		if err != nil {
			b.Error(err)
			return
		}
		defer cli.Close()
		ctx := context.Background()
		for pb.Next() {
			if _, err := cli.Get(ctx, peer, "/bench"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNotifyFanOut: one Notify to 1000 observers (in-memory conn).
func BenchmarkNotifyFanOut(b *testing.B) {
	mux := NewMux()
	mux.HandleFunc(coap.GET, "/obs", func(w *ResponseWriter, r *Request) { w.WriteString("22.5") })
	mux.SetAttrs("/obs", Attrs{Observable: true})
	e, w, _ := memServer(b, Config{Handler: mux, ObserveConEvery: -1})
	for i := 0; i < 1000; i++ {
		var m coap.Message
		m.Type, m.Code, m.MessageID = coap.Confirmable, coap.GET, coap.MessageID(i)
		m.Token = coap.TokenFromUint64(uint64(i))
		m.SetPath("/obs")
		m.SetUint(coap.Observe, 0)
		in, _ := m.AppendBinary(nil)
		w.handle(in, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5683))
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.Notify("/obs")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/observer")
}

// BenchmarkTokenTable: concurrent add, lookup and remove of exchanges in
// the sharded token table.
func BenchmarkTokenTable(b *testing.B) {
	e, _, _ := memServer(b, Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ex := &exchange{peer: testPeer}
		for pb.Next() {
			ex.token = e.newToken()
			e.addToken(ex)
			if e.lookupToken(ex.token) != ex {
				b.Error("lookup failed")
			}
			e.removeToken(ex)
		}
	})
}
