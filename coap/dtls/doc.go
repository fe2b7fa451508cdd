// Package dtls carries CoAP over DTLS 1.2 (RFC 7252 §9) with
// github.com/pion/dtls/v3, and presents a DTLS server or client as a
// [uring.BatchConn], so the CoAP endpoint reads and writes plaintext
// datagrams exactly as it does over plain UDP. It is the only package of
// edgekit that imports Pion; the CoAP codec and endpoint never do.
//
// # Server
//
// [Listen] (or [NewServer] over any BatchConn) accepts many peers on one UDP
// socket. [Server.ReadBatch] returns decrypted datagrams from any peer,
// tagged with the peer's address; [Server.WriteBatch] encrypts each datagram
// for the session of the peer with that address:
//
//	srv, err := dtls.Listen("udp", "127.0.0.1:5684", dtls.Config{
//		PSK: func(identity []byte) ([]byte, error) { return keys.Lookup(identity) },
//	})
//	if err != nil { ... }
//	defer srv.Close()
//	ep, err := endpoint.New(srv, endpoint.Config{Handler: mux}) // as over UDP
//
// # Client
//
// [Dial] (or [NewClient] over any BatchConn) runs the handshake with one
// server and returns a [Client], a BatchConn whose only peer is that server.
//
// # Security
//
// Pre-shared keys use TLS_PSK_WITH_AES_128_CCM_8 (the suite RFC 7252 §9.1.3.1
// mandates), TLS_PSK_WITH_AES_128_CCM and TLS_PSK_WITH_AES_128_GCM_SHA256;
// [Config.PSK] maps a client's identity to its key. Certificates use ECDSA
// with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7252 §9.1.3.3) and
// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; a server with [Config.ClientCAs]
// requires and verifies client certificates. Connection IDs (RFC 9146) let a
// peer keep its session when its address changes (NAT rebinding): see
// [Config.ConnectionIDLength].
//
// A ClientHello from the address of an established session (a peer that
// rebooted) starts a new handshake beside it (RFC 6347 §4.2.8); the old
// session ends when the new one is established. Until then the new
// session gets the address's epoch-0 handshake records, and every other
// record goes to both sessions: the one without the keys fails to
// authenticate it and drops it, so a record the client sends right after
// its handshake, or a ChangeCipherSpec and Finished sent in datagrams of
// their own, is not lost in the switch-over ([Stats].RehandshakeShared).
//
// # Resources
//
// Every limit is configurable and enforced (see [Config]): at most
// MaxSessions sessions, of which at most MaxHandshakes are still
// handshaking; a handshake that does not finish within HandshakeTimeout is
// dropped; a session idle for IdleTimeout is closed; each session queues at
// most PeerQueueLen undecrypted datagrams and the server at most
// ReadQueueLen decrypted ones, and datagrams beyond those bounds are dropped
// and counted in [Stats]. When the session or handshake limit is reached, a
// new ClientHello takes the slot of the oldest handshake whose client has
// not returned the HelloVerifyRequest cookie (RFC 6347 §4.2.1), as a SYN
// cache does: a flood of spoofed ClientHellos cannot lock real clients out.
//
// This package starts no goroutine per datagram, but Pion does: besides its
// two goroutines per DTLS connection (handshake state machine and record
// reader), its context-aware socket wrapper starts a short-lived goroutine
// around every read and every write of the underlying socket (at most one
// read and one write per connection at a time). The server adds one reader
// goroutine per session, one socket reader and one idle-expiry goroutine, so
// the goroutines are bounded by 5×MaxSessions+2. [Server.Close] and
// [Client.Close] stop them all and wait for the server's own.
//
// Session events go to [Config.Logger]. Pion's own messages (trace and
// debug only) are not forwarded: that would need a direct dependency on
// github.com/pion/logging, outside the module's agreed set; Pion prints them
// to standard error only when its PION_LOG_* environment variables ask.
package dtls
