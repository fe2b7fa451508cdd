//go:build tinygo && !blemesh_ecdh

package prov

import (
	"errors"
	"io"
)

// defaultKeyPair fails on TinyGo builds without crypto/ecdh: configure a
// KeyPair (a chip's crypto engine) or build with the blemesh_ecdh tag on a
// chip with enough RAM.
func defaultKeyPair(r io.Reader) (KeyPair, error) { return nil, unsupportedECDH{} }

// unsupportedECDH wraps errors.ErrUnsupported with context.
type unsupportedECDH struct{}

func (unsupportedECDH) Error() string {
	return "blemesh/prov: no KeyPair configured and crypto/ecdh is left out of TinyGo builds without the blemesh_ecdh tag: " + errors.ErrUnsupported.Error()
}

func (unsupportedECDH) Unwrap() error { return errors.ErrUnsupported }
