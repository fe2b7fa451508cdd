package dtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// CipherSuite is a DTLS 1.2 cipher suite identifier (the IANA TLS registry
// value).
type CipherSuite uint16

// The cipher suites this package offers. RFC 7252 §9.1.3 makes
// TLS_PSK_WITH_AES_128_CCM_8 mandatory for pre-shared keys and
// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 for certificates.
const (
	TLS_PSK_WITH_AES_128_CCM_8              CipherSuite = 0xc0a8 //nolint:revive // IANA name
	TLS_PSK_WITH_AES_128_CCM                CipherSuite = 0xc0a4 //nolint:revive // IANA name
	TLS_PSK_WITH_AES_128_GCM_SHA256         CipherSuite = 0x00a8 //nolint:revive // IANA name
	TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8      CipherSuite = 0xc0ae //nolint:revive // IANA name
	TLS_ECDHE_ECDSA_WITH_AES_128_CCM        CipherSuite = 0xc0ac //nolint:revive // IANA name
	TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 CipherSuite = 0xc02b //nolint:revive // IANA name
)

// String returns the IANA name of s.
func (s CipherSuite) String() string {
	switch s {
	case TLS_PSK_WITH_AES_128_CCM_8:
		return "TLS_PSK_WITH_AES_128_CCM_8"
	case TLS_PSK_WITH_AES_128_CCM:
		return "TLS_PSK_WITH_AES_128_CCM"
	case TLS_PSK_WITH_AES_128_GCM_SHA256:
		return "TLS_PSK_WITH_AES_128_GCM_SHA256"
	case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
	case TLS_ECDHE_ECDSA_WITH_AES_128_CCM:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"
	case TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	}
	return "CipherSuite(0x" + strconv.FormatUint(uint64(s), 16) + ")"
}

// isPSK reports whether s authenticates with a pre-shared key.
func (s CipherSuite) isPSK() bool {
	return s == TLS_PSK_WITH_AES_128_CCM_8 || s == TLS_PSK_WITH_AES_128_CCM || s == TLS_PSK_WITH_AES_128_GCM_SHA256
}

// isCert reports whether s authenticates with ECDSA certificates.
func (s CipherSuite) isCert() bool {
	return s == TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 || s == TLS_ECDHE_ECDSA_WITH_AES_128_CCM ||
		s == TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
}

// Default suites, most preferred first.
var (
	defaultPSKSuites  = [...]CipherSuite{TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM, TLS_PSK_WITH_AES_128_GCM_SHA256}
	defaultCertSuites = [...]CipherSuite{TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
)

// Defaults for the zero fields of [Config].
const (
	DefaultMaxSessions      = 1024
	DefaultMaxHandshakes    = 64
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultPeerQueueLen     = 16
	DefaultReadQueueLen     = 256
	DefaultMaxDatagramSize  = 2048
	DefaultMTU              = 1200

	// ConnectionIDSendOnly as [Config.ConnectionIDLength] negotiates RFC
	// 9146 Connection IDs but asks the peer for an empty one: this side
	// sends the CID the peer asks for and wants none back. Typical for a
	// client.
	ConnectionIDSendOnly = -1

	// maxRecord is the largest UDP datagram the server reads: a DTLS record
	// holds at most 2^14 bytes of plaintext plus up to 2048 of expansion
	// (RFC 6347 §4.1, RFC 5246 §6.2.3).
	maxRecord = 1<<14 + 2048 + 13
)

// Config configures a [Server] or a [Client]. It is passed by value; the
// zero value of every field is a documented default, but at least one way
// to authenticate (PSK or Certificates) must be set.
type Config struct {
	// PSK enables the pre-shared-key cipher suites. A server calls it with
	// the PSK identity the client sent and uses the key it returns; an
	// error (for an unknown identity) fails the handshake. A client calls
	// it with the identity hint the server sent (empty if none) and uses
	// the key it returns with the identity PSKIdentity. See [StaticPSK].
	PSK func(identity []byte) (key []byte, err error)
	// PSKIdentity is, for a client, the identity it sends (required with
	// PSK), and for a server the optional identity hint it sends.
	PSKIdentity []byte

	// Certificates are this side's certificate chains with ECDSA private
	// keys. A server needs one to offer the certificate suites; a client
	// presents one when the server asks for it.
	Certificates []tls.Certificate
	// RootCAs, for a client, verifies the server's certificate; nil means
	// the host's roots.
	RootCAs *x509.CertPool
	// ClientCAs, for a server, makes a client certificate mandatory and
	// verifies it against these CAs. Nil means no client certificate is
	// asked for.
	ClientCAs *x509.CertPool
	// ServerName is the name a client checks the server's certificate
	// against; [Dial] uses the host of its address when it is empty.
	ServerName string
	// InsecureSkipVerify makes a client accept any server certificate. For
	// tests only.
	InsecureSkipVerify bool

	// CipherSuites restricts and orders the suites offered; nil means the
	// PSK suites when PSK is set followed by the ECDSA suites when
	// Certificates (or, on a client, RootCAs) are set. Only the constants
	// of this package are accepted.
	CipherSuites []CipherSuite

	// ConnectionIDLength enables RFC 9146 Connection IDs: n > 0 asks the
	// peer to put a random n-byte CID (at most 255) in every record it
	// sends, which lets a server route a peer's records after its address
	// changed; [ConnectionIDSendOnly] negotiates CIDs but asks for none; 0
	// (the default) does not negotiate them.
	ConnectionIDLength int

	// MaxSessions bounds the server's sessions, handshaking or established
	// (default [DefaultMaxSessions]). A ClientHello beyond it evicts the
	// oldest handshake still waiting for its cookie, or is dropped.
	MaxSessions int
	// MaxHandshakes bounds the sessions still handshaking (default
	// [DefaultMaxHandshakes]), so a flood of ClientHellos cannot take all
	// sessions; beyond it, as beyond MaxSessions, the oldest handshake
	// still waiting for its cookie makes room.
	MaxHandshakes int
	// HandshakeTimeout bounds a handshake (default
	// [DefaultHandshakeTimeout]).
	HandshakeTimeout time.Duration
	// IdleTimeout closes a server session that has neither received nor
	// sent a datagram for that long (default [DefaultIdleTimeout]; RFC 7252
	// leaves it to the implementation, and EXCHANGE_LIFETIME is 247 s).
	IdleTimeout time.Duration
	// PeerQueueLen bounds the received, not yet decrypted datagrams queued
	// per session (default [DefaultPeerQueueLen]); more are dropped.
	PeerQueueLen int
	// ReadQueueLen bounds the decrypted datagrams waiting for
	// [Server.ReadBatch] (default [DefaultReadQueueLen]); when it is full
	// the sessions stop decrypting, and their peer queues fill and drop.
	ReadQueueLen int
	// MaxDatagramSize is the largest decrypted datagram delivered (default
	// [DefaultMaxDatagramSize]); larger ones are dropped and counted.
	MaxDatagramSize int
	// MTU bounds the size of the DTLS records this side sends, handshake
	// flights included (default [DefaultMTU]).
	MTU int

	// Rand is the source of Connection IDs; nil means crypto/rand, read at
	// first use. (Pion draws its handshake randomness from crypto/rand.)
	Rand io.Reader
	// Logger receives session events (debug level) and socket errors;
	// nil discards them.
	Logger *slog.Logger
}

// Errors returned by this package.
var (
	// ErrNoCredentials means the Config has neither PSK nor Certificates
	// (nor, for a client, RootCAs or InsecureSkipVerify).
	ErrNoCredentials = errors.New("coap/dtls: config has no PSK and no certificates")
	// ErrCipherSuite means Config.CipherSuites names a suite this package
	// does not offer, or one whose credentials are missing.
	ErrCipherSuite = errors.New("coap/dtls: unsupported cipher suite or missing credentials for it")
	// ErrConfig means a Config field is out of range.
	ErrConfig = errors.New("coap/dtls: invalid config")
	// ErrUnknownIdentity is what [StaticPSK] and [PSKTable] callbacks
	// return for an identity they do not know.
	ErrUnknownIdentity = errors.New("coap/dtls: unknown PSK identity")
	// ErrNoSession is returned by [Client.WriteBatch] for a datagram
	// addressed to anyone but its server.
	ErrNoSession = errors.New("coap/dtls: no DTLS session with that address")
)

// StaticPSK returns a PSK callback that answers key for the identity id
// and [ErrUnknownIdentity] for any other; a nil id accepts every identity
// (a client calls the callback with the server's hint, not an identity,
// so clients usually pass nil).
func StaticPSK(id, key []byte) func([]byte) ([]byte, error) {
	k := append([]byte(nil), key...)
	var want []byte
	if id != nil {
		want = append([]byte{}, id...)
	}
	return func(identity []byte) ([]byte, error) {
		if want != nil && string(identity) != string(want) {
			return nil, ErrUnknownIdentity
		}
		return k, nil
	}
}

// PSKTable returns a server PSK callback that looks identities up in keys
// (identity -> key). The map is copied.
func PSKTable(keys map[string][]byte) func([]byte) ([]byte, error) {
	m := make(map[string][]byte, len(keys))
	for id, k := range keys {
		m[id] = append([]byte(nil), k...)
	}
	return func(identity []byte) ([]byte, error) {
		if k, ok := m[string(identity)]; ok {
			return k, nil
		}
		return nil, ErrUnknownIdentity
	}
}

// configError reports an out-of-range Config field; it matches ErrConfig.
type configError struct {
	field string
	value int
}

func (e configError) Error() string {
	return "coap/dtls: invalid config: " + e.field + " = " + strconv.Itoa(e.value)
}

func (e configError) Is(t error) bool { return t == ErrConfig }

// resolved is a Config with defaults applied and checked.
type resolved struct {
	Config
	suites []CipherSuite
}

func (c Config) resolve(client bool) (resolved, error) {
	r := resolved{Config: c}
	def := func(p *int, d int, name string) error {
		if *p < 0 {
			return configError{name, *p}
		}
		if *p == 0 {
			*p = d
		}
		return nil
	}
	for _, f := range []struct {
		p    *int
		d    int
		name string
	}{
		{&r.MaxSessions, DefaultMaxSessions, "MaxSessions"},
		{&r.MaxHandshakes, DefaultMaxHandshakes, "MaxHandshakes"},
		{&r.PeerQueueLen, DefaultPeerQueueLen, "PeerQueueLen"},
		{&r.ReadQueueLen, DefaultReadQueueLen, "ReadQueueLen"},
		{&r.MaxDatagramSize, DefaultMaxDatagramSize, "MaxDatagramSize"},
		{&r.MTU, DefaultMTU, "MTU"},
	} {
		if err := def(f.p, f.d, f.name); err != nil {
			return r, err
		}
	}
	if r.MaxDatagramSize > 1<<14 {
		return r, configError{"MaxDatagramSize", r.MaxDatagramSize}
	}
	if r.MTU < 256 || r.MTU > 1<<14 {
		return r, configError{"MTU", r.MTU}
	}
	if r.HandshakeTimeout < 0 {
		return r, configError{"HandshakeTimeout", int(r.HandshakeTimeout)}
	}
	if r.HandshakeTimeout == 0 {
		r.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if r.IdleTimeout < 0 {
		return r, configError{"IdleTimeout", int(r.IdleTimeout)}
	}
	if r.IdleTimeout == 0 {
		r.IdleTimeout = DefaultIdleTimeout
	}
	if r.ConnectionIDLength < ConnectionIDSendOnly || r.ConnectionIDLength > 255 {
		return r, configError{"ConnectionIDLength", r.ConnectionIDLength}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if client && r.PSK != nil && r.PSKIdentity == nil {
		return r, fmt.Errorf("%w: a PSK client needs a PSKIdentity", ErrConfig)
	}

	hasPSK := r.PSK != nil
	hasCert := len(r.Certificates) > 0 || (client && (r.RootCAs != nil || r.InsecureSkipVerify))
	if !hasPSK && !hasCert {
		return r, ErrNoCredentials
	}
	if r.CipherSuites == nil {
		if hasPSK {
			r.suites = append(r.suites, defaultPSKSuites[:]...)
		}
		if hasCert {
			r.suites = append(r.suites, defaultCertSuites[:]...)
		}
	} else {
		if len(r.CipherSuites) == 0 {
			return r, ErrCipherSuite
		}
		for _, s := range r.CipherSuites {
			switch {
			case s.isPSK() && hasPSK, s.isCert() && hasCert:
			default:
				return r, ErrCipherSuite
			}
		}
		r.suites = append(r.suites, r.CipherSuites...)
	}
	return r, nil
}
