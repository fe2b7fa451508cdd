package main

import "time"

// provisioned returns the configuration the firmware image is built with:
// the keys and addresses a provisioner would have given it. A product reads
// them from flash written during provisioning; this example compiles in
// fixed test credentials (the sample keys of Mesh Protocol 1.1 §8), which
// the emulator test uses to encrypt and decrypt the radio traffic.
func provisioned() Config {
	return Config{
		NetKey:      [16]byte{0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18, 0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6},
		AppKey:      [16]byte{0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76, 0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48},
		IVIndex:     0x12345678,
		Address:     0x0001,
		Groups:      []uint16{0xc000},
		SeqStart:    0x000100,
		ClientID:    "edgekit-cortexm",
		TopicPrefix: "edgekit/gw",
		KeepAlive:   20,
		AckTimeout:  3 * time.Second,
	}
}
