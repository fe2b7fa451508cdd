// Command gateway-cortexm is a Bluetooth Mesh to MQTT gateway firmware for
// Cortex-M microcontrollers, built with TinyGo from edgekit's portable
// packages (blemesh/network, blemesh/transport, blemesh/access, mqtt,
// ringbuf, mempool).
//
// The mesh side receives network PDUs from a radio that speaks H:4 HCI (LE
// Advertising Report events in, LE Set Advertising Data commands out),
// decrypts them with the node's provisioned keys, drops duplicates and
// replays, relays what is not addressed to the gateway, reassembles
// segmented messages (acknowledging them) and decodes the access layer. Each
// access message becomes an MQTT PUBLISH:
//
//	<prefix>/mesh/<SRC>/onoff        "0" or "1"   Generic OnOff Status
//	<prefix>/mesh/<SRC>/op/<OPCODE>  raw params   any other access message
//
// (SRC and OPCODE in upper-case hexadecimal). Commands come back the other
// way:
//
//	<prefix>/cmd/<DST>/onoff  "1"|"0"|"on"|"off"  -> Generic OnOff Set to DST
//	<prefix>/cmd/stats        (any payload)       -> <prefix>/stats counters
//
// The uplink is a small MQTT 3.1.1/5.0 session over a byte stream (a UART to
// a modem or a host): CONNECT with a retained will on <prefix>/status, QoS 0
// and 1 PUBLISH with a bounded in-flight window, SUBSCRIBE to <prefix>/cmd/#,
// PINGREQ keep-alive, and reconnection with redelivery (DUP) of
// unacknowledged messages when the link looks dead: an overdue CONNACK,
// PINGRESP or PUBACK, since a UART to a modem gives no other sign of it.
// Under MQTT 5 the broker's Receive Maximum bounds the in-flight window.
//
// The gateway logic ([Gateway]) is board-independent, driven by explicit
// time and non-blocking rings, and tested on the host with go test. All of
// its memory is allocated by [New]: buffers come from a mempool free list
// warmed at start-up and bounded by a counter, queues are ringbuf rings, and
// handling a message allocates nothing (AllocsPerRun on the host, the TinyGo
// heap counter in the emulator). Board files hold the hardware access:
// board_qemu.go for QEMU's lm3s6965evb (UART0 console, UART1 MQTT, UART2
// radio, SysTick clock); on other builds main only explains how to build it.
//
// See README.md for the build, the emulator test and the size figures.
package main
