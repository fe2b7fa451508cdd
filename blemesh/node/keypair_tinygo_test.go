//go:build tinygo

package node_test

import "github.com/edgekit/edgekit/blemesh/prov"

func testKeyPair(seed byte) prov.KeyPair { return newToyKeyPair(seed) }

const underTinyGo = true
