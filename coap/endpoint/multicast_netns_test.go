//go:build linux

package endpoint

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/coap"
	"github.com/edgekit/edgekit/internal/testutil"
)

// envNetnsChild marks the copy of the test binary that runs inside the
// new network namespace.
const envNetnsChild = "EDGEKIT_COAP_NETNS_CHILD"

// TestMulticastGroupNetns runs RFC 7252 §8 over a real multicast group.
// The host's loopback has no MULTICAST flag, so the test binary runs
// itself again inside a fresh network namespace (unshare --net), where
// only a private loopback exists — nothing can leave the host — and there
// it switches multicast on for lo and routes the groups to it. It skips
// when namespaces are not available (no unshare, or no permission); with
// EDGEKIT_PEERS=require it fails if unshare exists but fails otherwise.
func TestMulticastGroupNetns(t *testing.T) {
	if os.Getenv(envNetnsChild) == "1" {
		multicastInNetns(t)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary in a network namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) not installed: cannot make a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed: cannot configure the namespace's loopback")
	}
	// Plain (as root), else in a user namespace mapped to root.
	var prefix []string
	var why []string
	for _, args := range [][]string{{"--net"}, {"--user", "--map-root-user", "--net"}} {
		out, err := runBounded(10*time.Second, unshare, append(args, "true")...)
		if err == nil {
			prefix = args
			break
		}
		why = append(why, strings.Join(args, " ")+": "+strings.TrimSpace(out)+" ("+err.Error()+")")
	}
	if prefix == nil {
		msg := "no network namespace: unshare " + strings.Join(why, "; unshare ")
		if testutil.PeersRequired() && !permissionDenied(strings.Join(why, " ")) {
			t.Fatalf("%s; %s=require makes this a failure", msg, testutil.EnvPeers)
		}
		t.Skip(msg)
	}
	args := append(prefix, "--", os.Args[0], "-test.run=^TestMulticastGroupNetns$", "-test.count=1", "-test.v", "-test.timeout=60s")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), envNetnsChild+"=1")
	cmd.WaitDelay = 5 * time.Second
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	t.Logf("in the namespace (unshare %s):\n%s", strings.Join(prefix, " "), out)
	switch {
	case ctx.Err() != nil:
		t.Fatal("the namespace run timed out")
	case err != nil && (strings.Contains(out, "exec format error") || strings.Contains(out, "cannot execute binary")):
		t.Skip("the test binary cannot be run again directly (under an emulator?)")
	case err != nil:
		t.Fatalf("the namespace run failed: %v", err)
	case strings.Contains(out, "--- SKIP: TestMulticastGroupNetns"):
		t.Skip("skipped inside the namespace (see the log)")
	case !strings.Contains(out, "--- PASS: TestMulticastGroupNetns"):
		t.Fatal("the namespace run did not report a pass")
	}
}

func permissionDenied(s string) bool {
	return strings.Contains(s, "Operation not permitted") || strings.Contains(s, "Permission denied")
}

func runBounded(d time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// multicastInNetns is the scenario, inside the namespace.
func multicastInNetns(t *testing.T) {
	for _, c := range [][]string{
		{"link", "set", "lo", "up", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := runBounded(10*time.Second, "ip", c...); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	// IPv6 multicast is not looped back on lo; it runs on a veth pair
	// (v0, v1) inside the namespace, joined on v0, the client at fd00::1
	// (no duplicate address detection, so the address is usable at once).
	// If IPv6 is disabled in the kernel, only IPv4 runs.
	ipv6 := true
	for _, c := range [][]string{
		{"link", "add", "v0", "type", "veth", "peer", "name", "v1"},
		{"link", "set", "v0", "up"},
		{"link", "set", "v1", "up"},
		{"-6", "addr", "add", "fd00::1/64", "dev", "v0", "nodad"},
	} {
		if out, err := runBounded(10*time.Second, "ip", c...); err != nil {
			t.Logf("ip %s: %v %s: IPv6 groups not tested", strings.Join(c, " "), err, strings.TrimSpace(out))
			ipv6 = false
			break
		}
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if lo.Flags&net.FlagMulticast == 0 {
		t.Fatalf("lo flags %v: no multicast", lo.Flags)
	}
	type groupCase struct {
		network, client string
		ifi             *net.Interface
		group           netip.AddrPort
	}
	groups := []groupCase{{"udp4", "127.0.0.1:0", lo, AllCoAPNodesIPv4}}
	if ipv6 {
		v0, err := net.InterfaceByName("v0")
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups,
			groupCase{"udp6", "[fd00::1]:0", v0, netip.AddrPortFrom(AllCoAPNodesIPv6Link.Addr().WithZone("v0"), 5683)},
			groupCase{"udp6", "[fd00::1]:0", v0, AllCoAPNodesIPv6Site},
		)
	}
	for _, g := range groups {
		t.Run(g.group.String(), func(t *testing.T) { multicastGroup(t, g.ifi, g.network, g.client, g.group) })
	}
}

// multicastGroup: two servers join group on the same port; a client's
// Endpoint.Multicast gets one response from each, each delayed within the
// leisure; a request that one handler declines (query filter) is answered
// by the other only; and no server ever sends an RST, an ACK or an error
// response to a multicast request (§8.2).
func multicastGroup(t *testing.T, ifi *net.Interface, network, client string, group netip.AddrPort) {
	const leisure = 400 * time.Millisecond
	var servers []*Endpoint
	for _, name := range []string{"A", "B"} {
		mux := NewMux()
		mux.HandleFunc(coap.GET, "/name", func(w *ResponseWriter, r *Request) {
			if !r.Multicast {
				w.SetCode(coap.InternalServerError)
				return
			}
			// A filter in the query that does not name this server: decline.
			for _, o := range r.Msg.Options {
				q := string(o.Value)
				if o.ID == coap.URIQuery && strings.HasPrefix(q, "who=") && q != "who="+name {
					w.SetCode(coap.NotFound)
					return
				}
			}
			w.SetContentFormat(coap.TextPlain)
			w.WriteString(name)
		})
		srv, err := ListenMulticast(network, ifi, group, Config{Handler: mux, Leisure: leisure})
		if err != nil {
			t.Fatalf("server %s: ListenMulticast %v: %v", name, group, err)
		}
		t.Cleanup(func() { srv.Close() })
		servers = append(servers, srv)
	}

	cli, err := Listen(network, client, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ask := func(query string) (names []string, delays []time.Duration) {
		t.Helper()
		var m coap.Message
		m.Code = coap.GET
		m.SetPath("/name")
		if query != "" {
			m.AddString(coap.URIQuery, query)
		}
		ctx, cancel := context.WithTimeout(context.Background(), leisure+600*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := cli.Multicast(ctx, group, &m, func(r *Response) bool {
			if r.Code() != coap.Content || r.Msg.Type != coap.NonConfirmable {
				t.Errorf("response %v %v from %v", r.Msg.Type, r.Code(), r.Peer)
			}
			names = append(names, string(r.Body))
			delays = append(delays, time.Since(start))
			return true
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Multicast: %v", err)
		}
		slices.Sort(names)
		return names, delays
	}
	var all []time.Duration
	for i := 0; i < 3; i++ {
		names, delays := ask("")
		if !slices.Equal(names, []string{"A", "B"}) {
			t.Fatalf("round %d: responses %q; want one from each server", i, names)
		}
		all = append(all, delays...)
	}
	// Each response waits a random time in [0, leisure): none later than
	// that (plus scheduling slack), and not all of them at once.
	if slices.Max(all) > leisure+400*time.Millisecond {
		t.Errorf("response delays %v exceed the leisure %v", all, leisure)
	}
	if slices.Max(all) < leisure/10 {
		t.Errorf("response delays %v: none delayed", all)
	}
	t.Logf("response delays %v (leisure %v)", all, leisure)
	if names, _ := ask("who=B"); !slices.Equal(names, []string{"B"}) {
		t.Fatalf("filtered request: responses %q; want B only", names)
	}

	// A plain socket sends what must get no reply: a CON request (§8.1
	// makes a multicast request NON), a ping, a malformed CON, a NON to a
	// missing resource and a NON the handler declines; then one NON that
	// B answers. Everything the servers send back is read.
	raw, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(client)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	before := make([]Stats, len(servers))
	for i, s := range servers {
		before[i] = s.Stats()
	}
	msg := func(typ coap.Type, mid coap.MessageID, path, query string) []byte {
		var m coap.Message
		m.Type, m.Code, m.MessageID = typ, coap.GET, mid
		m.Token, _ = coap.TokenFrom([]byte{0xee, byte(mid)})
		m.SetPath(path)
		if query != "" {
			m.AddString(coap.URIQuery, query)
		}
		b, _ := m.AppendBinary(nil)
		return b
	}
	sends := [][]byte{
		msg(coap.Confirmable, 1, "/name", ""),
		{0x40, 0, 0, 2},       // ping: Empty CON
		{0x40, 1, 0, 3, 0xff}, // malformed CON: payload marker, no payload
		msg(coap.NonConfirmable, 4, "/missing", ""),
		msg(coap.NonConfirmable, 5, "/name", "who=C"),
		msg(coap.NonConfirmable, 6, "/name", "who=B"),
	}
	to := net.UDPAddrFromAddrPort(group)
	for _, b := range sends {
		if _, err := raw.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	var got []*coap.Message
	raw.SetReadDeadline(time.Now().Add(leisure + 600*time.Millisecond))
	buf := make([]byte, 1500)
	for {
		n, _, err := raw.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		var m coap.Message
		if _, err := m.Decode(buf[:n]); err != nil {
			t.Fatalf("undecodable reply % x", buf[:n])
		}
		got = append(got, m.Clone())
	}
	if len(got) != 1 || got[0].Type != coap.NonConfirmable || got[0].Code != coap.Content ||
		got[0].MessageID == 6 || string(got[0].Payload) != "B" {
		for _, m := range got {
			t.Errorf("reply %v %v mid %d %q", m.Type, m.Code, m.MessageID, m.Payload)
		}
		t.Fatalf("%d replies to multicast requests; want only B's NON 2.05", len(got))
	}
	for i, s := range servers {
		st := s.Stats()
		if st.Received-before[i].Received < uint64(len(sends)) {
			t.Errorf("server %d received %d of the %d datagrams", i, st.Received-before[i].Received, len(sends))
		}
	}
}
