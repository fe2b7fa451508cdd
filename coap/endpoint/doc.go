// Package endpoint is a CoAP endpoint (RFC 7252): client and server on
// one datagram socket, with block-wise transfers (RFC 7959), observe
// (RFC 7641), No-Response (RFC 7967), Request-Tag (RFC 9175) and
// multicast (RFC 7252 §8).
//
// An [Endpoint] reads and writes through a [uring.BatchConn], so it runs
// over plain UDP ([Listen] wraps a *net.UDPConn), over io_uring/recvmmsg
// batches, or over DTLS (coap/dtls presents a DTLS server as a BatchConn).
// With [New], one reader goroutine hands pooled receive buffers to a bounded
// pool of workers (Config.Workers, Config.QueueLen; when full, datagrams are
// dropped and counted), which decode in place, deduplicate, serve and
// answer. With Config.ConcurrentReads (set by [Listen] and
// [ListenMulticast], for sockets that allow concurrent reads) each of the
// Config.Workers goroutines reads and serves by itself, with no hand-off.
// Either way no goroutine is started per datagram. The matching tables
// (exchanges by token and by message id, received message ids, uploads,
// observers) are split in 64 independently locked shards.
//
//	mux := endpoint.NewMux()
//	mux.HandleFunc(coap.GET, "/temp", func(w *endpoint.ResponseWriter, r *endpoint.Request) {
//		w.SetContentFormat(coap.TextPlain)
//		w.WriteString("21.5")
//	})
//	mux.SetAttrs("/temp", endpoint.Attrs{RT: "temperature", Observable: true})
//	ep, err := endpoint.Listen("udp", ":5683", endpoint.Config{Handler: mux})
//	...
//	ep.Notify("/temp") // observers get the new value
//	resp, err := ep.Get(ctx, netip.MustParseAddrPort("192.0.2.1:5683"), "/sensors/1")
//
// # Reliability (RFC 7252 §4)
//
// A CON is retransmitted after a random initial timeout in [ACKTimeout,
// ACKTimeout*ACKRandomFactor], doubling each time, MaxRetransmit times;
// NStart bounds outstanding requests per peer. Received CON and NON
// message ids are remembered for EXCHANGE_LIFETIME / NON_LIFETIME (bounded
// by Config.MaxDedup) together with the response, which a duplicate gets
// again. Malformed CON messages and pings are answered with RST, requests
// with an unrecognised critical option with 4.02 Bad Option. Ids, tokens
// and Request-Tags come from Config.Rand and all timing from
// Config.Clock, so tests run without sleeping.
//
// # Block-wise transfers (RFC 7959)
//
// Handlers see whole bodies. An upload is reassembled atomically, bounded
// by MaxBodySize, MaxReassemblies and ReassemblyTimeout, and matched by
// peer, request options and Request-Tag, not by token (libcoap changes the
// token for every block). A large response body is sent block by block
// with Size2 and an ETag and kept for the follow-up requests. Clients
// upload and download the same way, adapting to a smaller block size the
// peer asks for.
//
// # Observe (RFC 7641)
//
// Resources registered as observable accept registrations; [Endpoint.Notify]
// runs the handler once and sends the same encoded options and payload to
// every observer in batches (no goroutine per observer), with sequence
// numbers, a CON at least every ObserveConInterval (24 h) and every
// ObserveConEvery-th time, and removes observers that reset or do not
// acknowledge. [Endpoint.Observe] applies the freshness rule of §3.4,
// re-registers when Max-Age runs out, and [Observation.Cancel]
// deregisters.
//
// # Multicast (RFC 7252 §8)
//
// On a multicast endpoint ([ListenMulticast], Config.Multicast) each
// response waits a random time within Config.Leisure. The waiting
// responses are kept in one bounded queue (Config.MaxPendingMulticast,
// default 256) behind a single Clock timer; beyond the bound a response is
// dropped and counted in Stats.MulticastDropped. A CON request to a
// multicast endpoint is ignored (§8.1: multicast requests are NON), and no
// ACK, RST or error response is ever sent to one (§8.2).
//
// # Freshness: Echo (RFC 9175)
//
// With Config.Echo the server asks for proof of freshness: unsafe requests
// (POST, PUT, DELETE, FETCH, PATCH, iPATCH) without a fresh Echo, and large
// responses to an address not yet verified (amplification mitigation,
// §2.4), get 4.01 with an Echo option; the client repeats the request with
// it, as this package's client and libcoap's do by themselves. The value
// is a timestamp with a truncated HMAC over it and the client's address
// under a per-endpoint key: the server keeps no state per client.
package endpoint
