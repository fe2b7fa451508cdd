// Package testutil holds helpers shared by edgekit's tests. Only _test.go
// files may import it (the layering test at the module root enforces this).
//
// Most of it is about real protocol peers — mosquitto for MQTT, libcoap's
// coap-server for CoAP — that tests start on a free loopback port, use, and
// stop again:
//
//   - [NeedPeer] finds a peer's binary on PATH. A missing peer skips the test,
//     naming the Debian package to install, unless EDGEKIT_PEERS=require is
//     set (as CI does), which turns the skip into a failure; see
//     [PeersRequired].
//   - [FreePort] and [LoopbackAddr] pick a free port on 127.0.0.1.
//   - [StartPeer] runs a peer in its own process group with a bounded
//     lifetime, keeps the tail of its output for the test log, waits until it
//     is ready (see [TCPReady] and [CoAPReady]), and stops it — SIGTERM, then
//     SIGKILL — by its process id when the test ends, so no process outlives
//     the test.
//   - [StartMosquitto] and [StartCoAPServer] start the two peers the protocol
//     packages test against.
//   - [SkipIfUnsupported] skips a test on a wrapped [errors.ErrUnsupported]
//     and fails it on the bare sentinel (STYLE R14).
//
// A sketch of a test against mosquitto:
//
//	func TestClientAgainstMosquitto(t *testing.T) {
//		broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{
//			Extra: []string{"max_inflight_messages 10"},
//		})
//		conn, err := net.DialTimeout("tcp", broker.Addr(), 5*time.Second)
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer conn.Close()
//		// ... speak MQTT; the broker is stopped when t ends.
//	}
//
// Every helper takes a [testing.TB] and reports through it, so it must be
// called from the goroutine running the test, like [testing.T.Fatal]. All
// network use is on loopback and every wait is bounded.
package testutil
