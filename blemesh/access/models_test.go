package access_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
)

func newServer() *access.ConfigServer {
	return &access.ConfigServer{
		Composition: comp,
		DefaultTTL:  5,
		GATTProxy:   access.FeatureNotSupported,
		NetKeys:     []access.NetKeyEntry{{Index: 0x456}},
		Models: []access.ModelState{
			{Element: 0x1201, ID: access.ModelID{ID: 0x0000}},
			{Element: 0x1201, ID: access.ModelID{ID: 0x1000}},
			{Element: 0x1201, ID: access.ModelID{Vendor: true, CompanyID: 0x3f, ID: 0x2a}},
		},
	}
}

func handle(t *testing.T, s *access.ConfigServer, op access.Opcode, params string) (access.Opcode, string) {
	t.Helper()
	st, out, ok, err := s.Handle(op, unhex(params), nil)
	if err != nil || !ok {
		t.Fatalf("%s %s: ok %v, %v", op, params, ok, err)
	}
	if want, ok := access.StatusFor(op); !ok || want != st {
		t.Fatalf("%s answered with %s; StatusFor says %s", op, st, want)
	}
	return st, hex.EncodeToString(out)
}

func TestConfigServer(t *testing.T) {
	s := newServer()
	// Message #6: Config AppKey Add; message #16: its status.
	if _, out := handle(t, s, access.OpAppKeyAdd, "56341263964771734fbd76e3b40519d1d94a48"); out != "00563412" {
		t.Fatalf("AppKey Status %s", out)
	}
	if _, out := handle(t, s, access.OpAppKeyAdd, "56341263964771734fbd76e3b40519d1d94a48"); out != "00563412" {
		t.Fatal("idempotent add")
	}
	if _, out := handle(t, s, access.OpAppKeyAdd, "563412"+"00000000000000000000000000000000"); out != "06563412" {
		t.Fatalf("other key at the same index: %s", out)
	}
	if _, out := handle(t, s, access.OpAppKeyAdd, "01f0ff"+"00000000000000000000000000000000"); out[:2] != "04" {
		t.Fatalf("unknown NetKey: %s", out)
	}
	if _, out := handle(t, s, access.OpAppKeyGet, "5604"); out != "0056042301" {
		t.Fatalf("AppKey List %s", out)
	}
	// Bind the Generic OnOff Server (0x1000) and publish.
	if _, out := handle(t, s, access.OpModelAppBind, "011223010010"); out != "00011223010010" {
		t.Fatalf("bind %s", out)
	}
	if _, out := handle(t, s, access.OpModelAppBind, "011299090010"); out[:2] != "03" {
		t.Fatalf("bind unknown AppKey %s", out)
	}
	if _, out := handle(t, s, access.OpModelAppBind, "0113230100ff"); out[:2] != "01" {
		t.Fatalf("bind on unknown element %s", out)
	}
	pub := "011200c0230105000a0010"
	if _, out := handle(t, s, access.OpModelPublicationSet, pub); out != "00"+pub {
		t.Fatalf("publication %s", out)
	}
	if _, out := handle(t, s, access.OpModelPublicationGet, "01120010"); out != "00"+pub {
		t.Fatalf("publication get %s", out)
	}
	if _, out := handle(t, s, access.OpModelSubscriptionAdd, "011201c00010"); out != "00011201c00010" {
		t.Fatalf("subscribe %s", out)
	}
	if _, out := handle(t, s, access.OpModelSubscriptionAdd, "01120100"+"0010"); out[:2] != "01" {
		t.Fatalf("unicast subscription %s", out)
	}
	if len(s.Models[1].Subs) != 1 || s.Models[1].Subs[0] != 0xc001 || len(s.Models[1].AppKeys) != 1 {
		t.Fatalf("model state %+v", s.Models[1])
	}
	// States.
	if _, out := handle(t, s, access.OpDefaultTTLSet, "07"); out != "07" {
		t.Fatal(out)
	}
	if _, _, _, err := s.Handle(access.OpDefaultTTLSet, unhex("01"), nil); err == nil {
		t.Fatal("TTL 1 accepted")
	}
	if _, out := handle(t, s, access.OpGATTProxySet, "01"); out != "02" {
		t.Fatalf("unsupported proxy %s", out)
	}
	if _, out := handle(t, s, access.OpRelaySet, "0113"); out != "0113" {
		t.Fatalf("relay %s", out)
	}
	if _, out := handle(t, s, access.OpCompositionDataGet, "00"); out != "00"+hex.EncodeToString(comp) {
		t.Fatalf("composition %s", out)
	}
	// Key Refresh: NetKey Update then AppKey Update.
	if _, out := handle(t, s, access.OpNetKeyUpdate, "5604"+"11111111111111111111111111111111"); out != "005604" || s.NetKeys[0].Phase != 1 {
		t.Fatalf("NetKey Update %s", out)
	}
	if _, out := handle(t, s, access.OpAppKeyUpdate, "563412"+"22222222222222222222222222222222"); out != "00563412" {
		t.Fatalf("AppKey Update %s", out)
	}
	// Deleting the only NetKey is refused; deleting the AppKey unbinds it.
	if _, out := handle(t, s, access.OpNetKeyDelete, "5604"); out != "0c5604" {
		t.Fatalf("delete last NetKey %s", out)
	}
	if _, out := handle(t, s, access.OpAppKeyDelete, "563412"); out != "00563412" || len(s.Models[1].AppKeys) != 0 || s.Models[1].Pub.PublishAddress != 0 {
		t.Fatalf("AppKey Delete %s %+v", out, s.Models[1])
	}
	if _, out := handle(t, s, access.OpNetKeyGet, ""); out != "5604" {
		t.Fatalf("NetKey List %s", out)
	}
	if _, _ = handle(t, s, access.OpNodeReset, ""); !s.Reset {
		t.Fatal("reset")
	}
	if _, _, ok, _ := s.Handle(access.Opcode(0x8099), nil, nil); ok {
		t.Fatal("unknown opcode answered")
	}
	if _, _, _, err := s.Handle(access.OpAppKeyAdd, unhex("0102"), nil); err == nil {
		t.Fatal("malformed add")
	}
}

func TestHealthServer(t *testing.T) {
	h := access.HealthServer{CompanyID: 0x0059}
	h.AddFault(0x07)
	h.AddFault(0x07)
	if cs := h.CurrentStatus(); !bytes.Equal(cs.Faults, []byte{7}) {
		t.Fatal("current")
	}
	st, out, ok, err := h.Handle(access.OpHealthFaultGet, unhex("5900"), nil)
	if err != nil || !ok || st != access.OpHealthFaultStatus || hex.EncodeToString(out) != "00590007" {
		t.Fatalf("fault get %s %x %v %v", st, out, ok, err)
	}
	if _, _, ok, _ := h.Handle(access.OpHealthFaultGet, unhex("5a00"), nil); ok {
		t.Fatal("other company answered")
	}
	_, out, _, _ = h.Handle(access.OpHealthFaultClear, unhex("5900"), nil)
	if hex.EncodeToString(out) != "005900" || len(h.Current) != 1 {
		t.Fatalf("clear %x", out)
	}
	_, out, _, _ = h.Handle(access.OpHealthFaultTest, unhex("035900"), nil)
	if hex.EncodeToString(out) != "035900" {
		t.Fatalf("test %x", out)
	}
	if _, out, ok, _ := h.Handle(access.OpHealthPeriodSet, unhex("04"), nil); !ok || out[0] != 4 {
		t.Fatal("period")
	}
	if _, _, _, err := h.Handle(access.OpHealthPeriodSet, unhex("10"), nil); err == nil {
		t.Fatal("period 16")
	}
	if _, out, ok, _ := h.Handle(access.OpAttentionSet, unhex("05"), nil); !ok || out[0] != 5 {
		t.Fatal("attention")
	}
	if _, _, ok, _ := h.Handle(access.OpAttentionSetUnack, unhex("06"), nil); ok || h.Attention != 6 {
		t.Fatal("attention unack")
	}
}

func TestRoute(t *testing.T) {
	s := &access.ConfigServer{Models: []access.ModelState{
		{Element: 0x0100, ID: access.ModelID{ID: 0x0000}, DevKey: true, Opcodes: []access.Opcode{access.OpAppKeyAdd, access.OpCompositionDataGet}},
		{Element: 0x0100, ID: access.ModelID{ID: 0x1000}, AppKeys: []uint16{1}, Subs: []uint16{0xc000}, Opcodes: []access.Opcode{0x8201, 0x8202}},
		{Element: 0x0101, ID: access.ModelID{ID: 0x1000}, AppKeys: []uint16{1, 2}, Subs: []uint16{0xc000, 0xb529}, Opcodes: []access.Opcode{0x8201, 0x8202}},
	}}
	out := make([]int, 0, 4)
	check := func(dst uint16, key int, op access.Opcode, want ...int) {
		t.Helper()
		got := s.Route(dst, key, op, out[:0])
		if len(got) != len(want) {
			t.Fatalf("Route(%#x, %d, %s) = %v; want %v", dst, key, op, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("Route(%#x, %d, %s) = %v; want %v", dst, key, op, got, want)
			}
		}
	}
	check(0x0100, access.DeviceKey, access.OpAppKeyAdd, 0)
	check(0x0100, 1, access.OpAppKeyAdd)          // config needs the device key
	check(0x0101, access.DeviceKey, 0x8201)       // OnOff needs a bound app key
	check(0x0101, 2, 0x8201, 2)                   // bound on element 2 only
	check(0x0100, 2, 0x8201)                      // not bound on element 1
	check(0xc000, 1, 0x8202, 1, 2)                // group: both subscribers
	check(0xb529, 2, 0x8202, 2)                   // virtual address
	check(access.AddrAllNodes, 1, 0x8201, 1)      // all-nodes: primary element
	check(0x0102, 1, 0x8201)                      // no such element
	check(0x0101, 1, access.OpCompositionDataGet) // opcode not received by the model
}

// TestRouteVirtual: labels sharing a virtual address are told apart.
func TestRouteVirtual(t *testing.T) {
	la, lb, lc := [16]byte{1}, [16]byte{2}, [16]byte{3}
	s := &access.ConfigServer{Models: []access.ModelState{
		{Element: 0x0100, ID: access.ModelID{ID: 0x1000}, AppKeys: []uint16{1}, Subs: []uint16{0x8001}, Labels: [][16]byte{la}, Opcodes: []access.Opcode{0x8202}},
		{Element: 0x0101, ID: access.ModelID{ID: 0x1000}, AppKeys: []uint16{1}, Subs: []uint16{0x8001, 0x8001}, Labels: [][16]byte{la, lb}, Opcodes: []access.Opcode{0x8202}},
		{Element: 0x0102, ID: access.ModelID{ID: 0x1000}, AppKeys: []uint16{2}, Subs: []uint16{0x8001}, Labels: [][16]byte{lb}, Opcodes: []access.Opcode{0x8202}},
	}}
	out := make([]int, 0, 4)
	eq := func(got []int, want ...int) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
	if got := s.RouteVirtual(&la, 1, 0x8202, out[:0]); !eq(got, 0, 1) {
		t.Fatalf("label A: %v", got)
	}
	if got := s.RouteVirtual(&lb, 1, 0x8202, out[:0]); !eq(got, 1) {
		t.Fatalf("label B, key 1: %v", got)
	}
	if got := s.RouteVirtual(&lb, 2, 0x8202, out[:0]); !eq(got, 2) {
		t.Fatalf("label B, key 2: %v", got)
	}
	if got := s.RouteVirtual(&lc, 1, 0x8202, out[:0]); len(got) != 0 {
		t.Fatalf("unknown label: %v", got)
	}
	if got := s.RouteVirtual(&la, 1, 0x8201, out[:0]); len(got) != 0 {
		t.Fatalf("opcode not received: %v", got)
	}
	if n := testing.AllocsPerRun(100, func() { out = s.RouteVirtual(&la, 1, 0x8202, out[:0]) }); n != 0 {
		t.Fatalf("RouteVirtual allocates %v", n)
	}
}
