// Package beacon implements Bluetooth Mesh beacons (Mesh Protocol 1.1
// §3.10, Mesh Profile 1.0.1 §3.9): the Unprovisioned Device beacon with its
// optional URI hash, the Secure Network beacon, the Mesh Private beacon, and
// the IV Update and Key Refresh procedures they drive (§3.10.4, §3.10.5).
//
// Codecs alias their input and do not allocate; the state machines take
// the current time as an argument and start no timers.
//
//	keys := beacon.NewNetKeys(netKey)
//	b := beacon.SecureNetwork{Flags: 0, NetworkID: keys.NetworkID, IVIndex: iv}
//	wire, _ := keys.SealSecure(buf[:0], &b)
package beacon
