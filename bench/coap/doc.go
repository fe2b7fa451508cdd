// Package coapbench compares CoAP servers side by side under the same load,
// in one `go test -bench` run: edgekit's coap/endpoint, the UDP server of
// github.com/plgd-dev/go-coap/v3, and libcoap's coap-server-notls (started
// as a process; skipped with a message when it is not installed).
//
// The load generator is our own: N concurrent clients on loopback, each with
// its own UDP socket, each sending a Confirmable GET /time and waiting for
// the piggybacked response before sending the next. Each benchmark warms the
// server up, then measures b.N requests and reports
//
//	req/s            completed requests per second
//	p50-µs, p99-µs   latency percentiles of the completed requests
//	timeouts         requests without a response within 1 s (not retried)
//	retained-B/req   heap still in use after the run and a GC, minus before,
//	                 per request (in-process servers: edgekit, go-coap)
//	rss-B/req        growth of the server process's resident set per
//	                 request (libcoap, Linux only)
//
// Retained memory includes each server's deduplication state: RFC 7252 §4.5
// has a server remember message ids (edgekit and go-coap also keep the
// response) for EXCHANGE_LIFETIME, 247 s. edgekit bounds that table at
// endpoint.Config.MaxDedup entries (65536 by default), so its retained
// memory grows per request only until the table is full and then stays
// flat. BenchmarkCoAPServerSteady measures the in-process servers after a
// warm-up of 70000 requests, once that table is full.
//
// Run it from the bench directory:
//
//	go test -run '^$' -bench 'CoAPServer' -benchtime 20000x -count 3 ./coap
//
// The headline is clients=16. On a machine with few cores the load generator
// and the server share them, so only ratios measured in the same run carry
// over.
package coapbench
