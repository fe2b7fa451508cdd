// Package hci is the Bluetooth Mesh advertising bearer over a Bluetooth
// controller's Host Controller Interface (Core Vol 4 Part E), for Linux
// hosts and anything else that can give it H:4 packets through an
// io.ReadWriter: a serial controller, the Unix sockets of BlueZ's btvirt
// emulator, or an HCI user channel socket ([OpenUserChannel], Linux).
//
// The bearer advertises mesh PDUs as legacy non-connectable advertisements
// (LE Set Advertising Parameters / Data / Enable) and scans passively
// without duplicate filtering (LE Set Scan Parameters / Enable), turning LE
// Advertising Report events into mesh AD structures (package
// blemesh/bearer). Its reader goroutine never blocks: reports go to a
// bounded queue that drops when full, and command completions to a bounded
// slot. [Run] drives a blemesh/node.Node over it.
//
//	rw, _ := hci.OpenUserChannel(0)
//	b := hci.New(rw, hci.Config{})
//	defer b.Close()
//	_ = b.Init(ctx)
//	n, _ := node.New(node.Config{Bearer: b, ...})
//	_ = hci.Run(ctx, b, n, nil)
//
// This package is host-only (it uses goroutines, log/slog and the kernel
// through internal/sys); the codec part (ParsePacket, Framer, Event,
// ReportIter) allocates nothing per packet.
package hci
