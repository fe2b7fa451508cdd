package dtls

// This file is the one adapter from Config to Pion's functional options
// (STYLE R15): Pion v3 deprecates its Config struct.

import (
	"crypto/rand"
	"fmt"
	"io"

	piondtls "github.com/pion/dtls/v3"
)

func (r *resolved) pionSuites() []piondtls.CipherSuiteID {
	ids := make([]piondtls.CipherSuiteID, len(r.suites))
	for i, s := range r.suites {
		ids[i] = piondtls.CipherSuiteID(s)
	}
	return ids
}

// commonOptions are the options shared by servers and clients.
func (r *resolved) commonOptions() []piondtls.Option {
	opts := []piondtls.Option{
		piondtls.WithCipherSuites(r.pionSuites()...),
		piondtls.WithMTU(r.MTU),
		piondtls.WithExtendedMasterSecret(piondtls.RequestExtendedMasterSecret),
	}
	if r.PSK != nil {
		opts = append(opts, piondtls.WithPSK(r.PSK))
		if r.PSKIdentity != nil {
			opts = append(opts, piondtls.WithPSKIdentityHint(r.PSKIdentity))
		}
	}
	if len(r.Certificates) > 0 {
		opts = append(opts, piondtls.WithCertificates(r.Certificates...))
	}
	return opts
}

// serverOptions returns the options of one server session; cid is the
// Connection ID the session asks its peer for (nil for none).
func (r *resolved) serverOptions(cid []byte) []piondtls.ServerOption {
	var opts []piondtls.ServerOption
	for _, o := range r.commonOptions() {
		opts = append(opts, o)
	}
	if r.ClientCAs != nil {
		opts = append(opts,
			piondtls.WithClientAuth(piondtls.RequireAndVerifyClientCert),
			piondtls.WithClientCAs(r.ClientCAs))
	}
	switch {
	case r.ConnectionIDLength > 0:
		opts = append(opts, piondtls.WithConnectionIDGenerator(func() []byte { return cid }))
	case r.ConnectionIDLength == ConnectionIDSendOnly:
		opts = append(opts, piondtls.WithConnectionIDGenerator(piondtls.OnlySendCIDGenerator()))
	}
	return opts
}

// clientOptions returns the options of a client; cid as for serverOptions.
func (r *resolved) clientOptions(cid []byte) []piondtls.ClientOption {
	var opts []piondtls.ClientOption
	for _, o := range r.commonOptions() {
		opts = append(opts, o)
	}
	if r.RootCAs != nil {
		opts = append(opts, piondtls.WithRootCAs(r.RootCAs))
	}
	if r.ServerName != "" {
		opts = append(opts, piondtls.WithServerName(r.ServerName))
	}
	if r.InsecureSkipVerify {
		opts = append(opts, piondtls.WithInsecureSkipVerify(true))
	}
	switch {
	case r.ConnectionIDLength > 0:
		opts = append(opts, piondtls.WithConnectionIDGenerator(func() []byte { return cid }))
	case r.ConnectionIDLength == ConnectionIDSendOnly:
		opts = append(opts, piondtls.WithConnectionIDGenerator(piondtls.OnlySendCIDGenerator()))
	}
	return opts
}

// newCID draws a Connection ID of the configured length, or returns nil.
func (r *resolved) newCID() ([]byte, error) {
	if r.ConnectionIDLength <= 0 {
		return nil, nil
	}
	src := r.Rand
	if src == nil {
		src = rand.Reader
	}
	cid := make([]byte, r.ConnectionIDLength)
	if _, err := io.ReadFull(src, cid); err != nil {
		return nil, fmt.Errorf("coap/dtls: connection id: %w", err)
	}
	return cid, nil
}
