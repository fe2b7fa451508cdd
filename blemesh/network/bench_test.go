package network_test

import (
	"testing"

	"github.com/edgekit/edgekit/blemesh/network"
)

// BenchmarkOpen is network PDU decode + decrypt (deobfuscation, CCM with a
// 32-bit NetMIC) of message #16.
func BenchmarkOpen(b *testing.B) {
	k := network.FloodingKeys(netKey)
	out := make([]byte, 0, network.MaxPDULen)
	var h network.Header
	b.SetBytes(int64(len(msg16PDU)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(out[:0], &h, msg16PDU, 0x12345678); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal is network PDU encrypt + obfuscate of message #16.
func BenchmarkSeal(b *testing.B) {
	k := network.FloodingKeys(netKey)
	out := make([]byte, 0, network.MaxPDULen)
	h := msg16Hdr
	b.SetBytes(int64(len(msg16PDU)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(out[:0], &h, msg16Lower); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenWrongNID is the cost of rejecting a PDU of another network.
func BenchmarkOpenWrongNID(b *testing.B) {
	k := network.FloodingKeys(netKey)
	pdu := append([]byte(nil), msg16PDU...)
	pdu[0] ^= 1
	var h network.Header
	b.ReportAllocs()
	for b.Loop() {
		_, _ = k.Open(nil, &h, pdu, 0x12345678)
	}
}
