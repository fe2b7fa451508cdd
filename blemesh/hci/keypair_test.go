package hci_test

import (
	"github.com/edgekit/edgekit/blemesh/prov"
)

func toyKeyPair(seed byte) prov.KeyPair {
	priv := make([]byte, 32)
	for i := range priv {
		priv[i] = seed ^ byte(i*7+1)
	}
	kp, err := prov.NewP256(priv)
	if err != nil {
		panic(err)
	}
	return kp
}
