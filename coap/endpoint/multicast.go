package endpoint

import (
	"net"
	"net/netip"

	"github.com/edgekit/edgekit/uring"
)

// The "All CoAP Nodes" multicast groups (RFC 7252 §12.8) on the default
// port.
var (
	AllCoAPNodesIPv4     = netip.AddrPortFrom(netip.AddrFrom4([4]byte{224, 0, 1, 187}), 5683)
	AllCoAPNodesIPv6Link = netip.AddrPortFrom(netip.MustParseAddr("ff02::fd"), 5683)
	AllCoAPNodesIPv6Site = netip.AddrPortFrom(netip.MustParseAddr("ff05::fd"), 5683)
)

// ListenMulticast joins group on the interface ifi (nil: the system's
// choice) and returns an Endpoint serving the requests sent to the group
// per RFC 7252 §8.2 (Config.Multicast is set). Serve unicast requests
// with a second Endpoint from [Listen]; a client discovers devices with
// [Endpoint.Multicast].
func ListenMulticast(network string, ifi *net.Interface, group netip.AddrPort, cfg Config) (*Endpoint, error) {
	uc, err := net.ListenMulticastUDP(network, ifi, net.UDPAddrFromAddrPort(group))
	if err != nil {
		return nil, err
	}
	cfg.Multicast = true
	cfg.ConcurrentReads = true
	e, err := New(uring.WrapPacketConn(uc), cfg)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return e, nil
}
