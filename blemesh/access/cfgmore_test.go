package access_test

import (
	"bytes"
	"testing"

	"github.com/edgekit/edgekit/blemesh/access"
)

// Label UUID of the specification's sample 8.3.22; its virtual address is
// 0xb529.
const label = "0073e7e4d8b9440faf8415df4c56c0e1"

func expect(t *testing.T, s *access.ConfigServer, op access.Opcode, params, want string) {
	t.Helper()
	if _, out := handle(t, s, op, params); out != want {
		t.Errorf("%s %s = %s; want %s", op, params, out, want)
	}
}

// noAnswer: a malformed or prohibited message gets an error and no status.
func noAnswer(t *testing.T, s *access.ConfigServer, op access.Opcode, params string) {
	t.Helper()
	if _, _, ok, err := s.Handle(op, unhex(params), nil); ok || err == nil {
		t.Errorf("%s %s: ok %v, err %v; want no response and an error", op, params, ok, err)
	}
}

func TestConfigServerNetworkTransmit(t *testing.T) {
	s := newServer()
	expect(t, s, access.OpNetworkTransmitGet, "", "00")
	expect(t, s, access.OpNetworkTransmitSet, "2a", "2a")
	expect(t, s, access.OpNetworkTransmitGet, "", "2a")
	if s.NetworkTransmit != 0x2a {
		t.Errorf("state %#x", s.NetworkTransmit)
	}
	noAnswer(t, s, access.OpNetworkTransmitSet, "2a00")
	noAnswer(t, s, access.OpNetworkTransmitGet, "00")
}

func TestConfigServerHeartbeat(t *testing.T) {
	s := newServer()
	expect(t, s, access.OpHeartbeatPublicationGet, "", "00"+"000000000000000000")
	// Destination 0xc000, CountLog 2, PeriodLog 3, TTL 5, Features 7, NetKey 0x456.
	expect(t, s, access.OpHeartbeatPublicationSet, "00c00203050700"+"5604", "00"+"00c00203050700"+"5604")
	expect(t, s, access.OpHeartbeatPublicationGet, "", "00"+"00c00203050700"+"5604")
	if s.HeartbeatPub != (access.HeartbeatPublication{Destination: 0xc000, CountLog: 2, PeriodLog: 3, TTL: 5, Features: 7, NetKeyIndex: 0x456}) {
		t.Errorf("state %+v", s.HeartbeatPub)
	}
	// Unknown NetKey: status 0x04, state unchanged.
	expect(t, s, access.OpHeartbeatPublicationSet, "00c00203050700"+"2301", "04"+"00c00203050700"+"2301")
	// Virtual destination: status 0x01.
	expect(t, s, access.OpHeartbeatPublicationSet, "29b50203050700"+"5604", "01"+"29b50203050700"+"5604")
	// Unassigned destination turns publication off.
	expect(t, s, access.OpHeartbeatPublicationSet, "00000203050700"+"5604", "00"+"00000000000700"+"5604")
	// Prohibited values: no response.
	noAnswer(t, s, access.OpHeartbeatPublicationSet, "00c01203050700"+"5604") // CountLog 0x12
	noAnswer(t, s, access.OpHeartbeatPublicationSet, "00c00212050700"+"5604") // PeriodLog 0x12
	noAnswer(t, s, access.OpHeartbeatPublicationSet, "00c00203800700"+"5604") // TTL 0x80
	noAnswer(t, s, access.OpHeartbeatPublicationSet, "00c00203050700"+"56")
	if s.HeartbeatPub.Destination != 0 {
		t.Errorf("state %+v", s.HeartbeatPub)
	}

	expect(t, s, access.OpHeartbeatSubscriptionGet, "", "00"+"0000000000000000")
	expect(t, s, access.OpHeartbeatSubscriptionSet, "3412"+"00c0"+"03", "00"+"3412"+"00c0"+"03"+"00"+"7f"+"00")
	expect(t, s, access.OpHeartbeatSubscriptionGet, "", "00"+"3412"+"00c0"+"03"+"00"+"7f"+"00")
	expect(t, s, access.OpHeartbeatSubscriptionSet, "0080"+"00c0"+"03", "01"+"0080"+"00c0"+"03"+"000000")
	expect(t, s, access.OpHeartbeatSubscriptionSet, "0000"+"00c0"+"03", "00"+"0000"+"0000"+"00"+"00"+"7f"+"00")
	noAnswer(t, s, access.OpHeartbeatSubscriptionSet, "3412"+"00c0"+"12")
	noAnswer(t, s, access.OpHeartbeatSubscriptionSet, "3412"+"00c0")
	noAnswer(t, s, access.OpHeartbeatSubscriptionGet, "00")
}

func TestConfigServerModelLists(t *testing.T) {
	s := newServer()
	expect(t, s, access.OpAppKeyAdd, "56341263964771734fbd76e3b40519d1d94a48", "00563412")
	// Bind AppKey 0x123 to SIG model 0x1000 and the vendor model.
	expect(t, s, access.OpModelAppBind, "0112"+"2301"+"0010", "00"+"0112"+"2301"+"0010")
	expect(t, s, access.OpModelAppBind, "0112"+"2301"+"3f002a00", "00"+"0112"+"2301"+"3f002a00")
	expect(t, s, access.OpSIGModelAppGet, "0112"+"0010", "00"+"0112"+"0010"+"2301")
	expect(t, s, access.OpSIGModelAppGet, "0112"+"0000", "00"+"0112"+"0000")
	expect(t, s, access.OpVendorModelAppGet, "0112"+"3f002a00", "00"+"0112"+"3f002a00"+"2301")
	expect(t, s, access.OpSIGModelAppGet, "0112"+"0110", "02"+"0112"+"0110")
	expect(t, s, access.OpSIGModelAppGet, "0212"+"0010", "01"+"0212"+"0010")
	noAnswer(t, s, access.OpSIGModelAppGet, "0112"+"3f002a00")
	noAnswer(t, s, access.OpVendorModelAppGet, "0112"+"0010")

	expect(t, s, access.OpModelSubscriptionAdd, "0112"+"00c0"+"0010", "00"+"0112"+"00c0"+"0010")
	expect(t, s, access.OpModelSubscriptionAdd, "0112"+"01c0"+"0010", "00"+"0112"+"01c0"+"0010")
	expect(t, s, access.OpSIGModelSubscriptionGet, "0112"+"0010", "00"+"0112"+"0010"+"00c0"+"01c0")
	expect(t, s, access.OpVendorModelSubscriptionGet, "0112"+"3f002a00", "00"+"0112"+"3f002a00")
	expect(t, s, access.OpSIGModelSubscriptionGet, "0112"+"0110", "02"+"0112"+"0110")
	noAnswer(t, s, access.OpSIGModelSubscriptionGet, "0112")

	// Virtual addresses: the status carries the virtual address 0xb529.
	expect(t, s, access.OpModelSubscriptionVirtualAdd, "0112"+label+"0010", "00"+"0112"+"29b5"+"0010")
	expect(t, s, access.OpSIGModelSubscriptionGet, "0112"+"0010", "00"+"0112"+"0010"+"00c0"+"01c0"+"29b5")
	if len(s.Models[1].Labels) != 1 || !bytes.Equal(s.Models[1].Labels[0][:], unhex(label)) {
		t.Errorf("labels %x", s.Models[1].Labels)
	}
	s.Models[1].Opcodes = []access.Opcode{0x8201}
	if r := s.Route(0xb529, 0x123, 0x8201, nil); len(r) != 1 || r[0] != 1 {
		t.Errorf("Route to the virtual address = %v", r)
	}
	expect(t, s, access.OpModelSubscriptionVirtualDelete, "0112"+label+"0010", "00"+"0112"+"29b5"+"0010")
	expect(t, s, access.OpSIGModelSubscriptionGet, "0112"+"0010", "00"+"0112"+"0010"+"00c0"+"01c0")
	expect(t, s, access.OpModelSubscriptionVirtualOverwrite, "0112"+label+"3f002a00", "00"+"0112"+"29b5"+"3f002a00")
	expect(t, s, access.OpVendorModelSubscriptionGet, "0112"+"3f002a00", "00"+"0112"+"3f002a00"+"29b5")
	expect(t, s, access.OpModelSubscriptionVirtualAdd, "0112"+label+"0110", "02"+"0112"+"29b5"+"0110")
	noAnswer(t, s, access.OpModelSubscriptionVirtualAdd, "0112"+label)
	expect(t, s, access.OpModelSubscriptionDeleteAll, "0112"+"3f002a00", "00"+"0112"+"0000"+"3f002a00")
	if len(s.Models[2].Labels) != 0 || len(s.Models[2].Subs) != 0 {
		t.Errorf("delete all left %v %x", s.Models[2].Subs, s.Models[2].Labels)
	}

	// Publication to a virtual address.
	expect(t, s, access.OpModelPublicationVirtualSet, "0112"+label+"2301"+"05"+"00"+"00"+"0010", "00"+"0112"+"29b5"+"2301"+"05"+"00"+"00"+"0010")
	if s.Models[1].Pub.PublishAddress != 0xb529 || !bytes.Equal(s.Models[1].PubLabel[:], unhex(label)) {
		t.Errorf("publication %+v label %x", s.Models[1].Pub, s.Models[1].PubLabel)
	}
	expect(t, s, access.OpModelPublicationGet, "0112"+"0010", "00"+"0112"+"29b5"+"2301"+"05"+"00"+"00"+"0010")
	noAnswer(t, s, access.OpModelPublicationVirtualSet, "0112"+label+"2301"+"05"+"00"+"00")
}

func TestConfigServerLPNPollTimeout(t *testing.T) {
	s := newServer()
	expect(t, s, access.OpLPNPollTimeoutGet, "0112", "0112"+"000000")
	s.LPNPollTimeout = func(lpn uint16) uint32 {
		if lpn == 0x1201 {
			return 0x057e40
		}
		return 0
	}
	expect(t, s, access.OpLPNPollTimeoutGet, "0112", "0112"+"407e05")
	expect(t, s, access.OpLPNPollTimeoutGet, "0212", "0212"+"000000")
	noAnswer(t, s, access.OpLPNPollTimeoutGet, "00c0") // group: prohibited
	noAnswer(t, s, access.OpLPNPollTimeoutGet, "01")
}

func TestConfigServerKeyRefreshAndIdentity(t *testing.T) {
	s := newServer()
	expect(t, s, access.OpKeyRefreshPhaseGet, "5604", "00"+"5604"+"00")
	expect(t, s, access.OpKeyRefreshPhaseGet, "2301", "04"+"2301"+"00")
	expect(t, s, access.OpKeyRefreshPhaseSet, "5604"+"02", "0b"+"5604"+"00") // no new key in phase 0
	newKey := "000102030405060708090a0b0c0d0e0f"
	expect(t, s, access.OpNetKeyUpdate, "5604"+newKey, "00"+"5604")
	expect(t, s, access.OpKeyRefreshPhaseGet, "5604", "00"+"5604"+"01")
	expect(t, s, access.OpKeyRefreshPhaseSet, "5604"+"02", "00"+"5604"+"02")
	expect(t, s, access.OpKeyRefreshPhaseSet, "5604"+"03", "00"+"5604"+"00")
	if !bytes.Equal(s.NetKeys[0].Key[:], unhex(newKey)) || s.NetKeys[0].Phase != 0 {
		t.Errorf("key refresh did not install the new key: %+v", s.NetKeys[0])
	}
	noAnswer(t, s, access.OpKeyRefreshPhaseSet, "5604"+"01") // prohibited transition
	noAnswer(t, s, access.OpKeyRefreshPhaseSet, "5614"+"02") // RFU bits
	noAnswer(t, s, access.OpKeyRefreshPhaseGet, "56")

	// GATT Proxy not supported: Node Identity is 0x02 and cannot be set.
	expect(t, s, access.OpNodeIdentityGet, "5604", "00"+"5604"+"02")
	expect(t, s, access.OpNodeIdentitySet, "5604"+"01", "00"+"5604"+"02")
	s.GATTProxy = access.FeatureEnabled
	expect(t, s, access.OpNodeIdentitySet, "5604"+"01", "00"+"5604"+"01")
	expect(t, s, access.OpNodeIdentityGet, "5604", "00"+"5604"+"01")
	expect(t, s, access.OpNodeIdentityGet, "2301", "04"+"2301"+"00")
	noAnswer(t, s, access.OpNodeIdentitySet, "5604"+"02")
}

// Every Configuration Client message a Configuration Server must answer
// (Mesh Protocol 1.1 §4.4.1) gets a status from Handle.
func TestConfigServerAnswersEveryClientMessage(t *testing.T) {
	msgs := []struct {
		op     access.Opcode
		params string
	}{
		{access.OpBeaconGet, ""}, {access.OpBeaconSet, "01"}, {access.OpCompositionDataGet, "00"},
		{access.OpDefaultTTLGet, ""}, {access.OpDefaultTTLSet, "07"}, {access.OpGATTProxyGet, ""}, {access.OpGATTProxySet, "00"},
		{access.OpRelayGet, ""}, {access.OpRelaySet, "0100"}, {access.OpFriendGet, ""}, {access.OpFriendSet, "00"},
		{access.OpModelPublicationGet, "01120010"}, {access.OpModelPublicationSet, "011200c02301050000" + "0010"},
		{access.OpModelPublicationVirtualSet, "0112" + label + "2301050000" + "0010"},
		{access.OpModelSubscriptionAdd, "011200c00010"}, {access.OpModelSubscriptionVirtualAdd, "0112" + label + "0010"},
		{access.OpModelSubscriptionDelete, "011200c00010"}, {access.OpModelSubscriptionVirtualDelete, "0112" + label + "0010"},
		{access.OpModelSubscriptionOverwrite, "011200c00010"}, {access.OpModelSubscriptionVirtualOverwrite, "0112" + label + "0010"},
		{access.OpModelSubscriptionDeleteAll, "01120010"},
		{access.OpSIGModelSubscriptionGet, "01120010"}, {access.OpVendorModelSubscriptionGet, "01123f002a00"},
		{access.OpNetKeyAdd, "0100" + label}, {access.OpNetKeyUpdate, "0100" + label}, {access.OpNetKeyDelete, "0100"}, {access.OpNetKeyGet, ""},
		{access.OpAppKeyAdd, "56341263964771734fbd76e3b40519d1d94a48"}, {access.OpAppKeyUpdate, "56341263964771734fbd76e3b40519d1d94a48"},
		{access.OpAppKeyDelete, "563412"}, {access.OpAppKeyGet, "5604"},
		{access.OpNodeIdentityGet, "5604"}, {access.OpNodeIdentitySet, "560400"},
		{access.OpModelAppBind, "011223010010"}, {access.OpModelAppUnbind, "011223010010"},
		{access.OpSIGModelAppGet, "01120010"}, {access.OpVendorModelAppGet, "01123f002a00"},
		{access.OpNodeReset, ""},
		{access.OpKeyRefreshPhaseGet, "5604"}, {access.OpKeyRefreshPhaseSet, "560403"},
		{access.OpHeartbeatPublicationGet, ""}, {access.OpHeartbeatPublicationSet, "00000000000000" + "5604"},
		{access.OpHeartbeatSubscriptionGet, ""}, {access.OpHeartbeatSubscriptionSet, "0000000000"},
		{access.OpLPNPollTimeoutGet, "0112"},
		{access.OpNetworkTransmitGet, ""}, {access.OpNetworkTransmitSet, "00"},
	}
	for _, m := range msgs {
		s := newServer()
		handle(t, s, m.op, m.params) // fails unless a status that StatusFor names comes back
	}
}

func TestDecodeFieldsNewMessages(t *testing.T) {
	fs, err := access.DecodeFields(access.OpModelSubscriptionVirtualAdd, unhex("0112"+label+"0010"), nil)
	if err != nil || len(fs) != 3 || fs[0].Value != 0x1201 || !bytes.Equal(fs[1].Bytes, unhex(label)) || fs[2].Value != 0x1000 {
		t.Errorf("virtual add fields %+v, %v", fs, err)
	}
	fs, err = access.DecodeFields(access.OpLPNPollTimeoutStatus, unhex("0112407e05"), nil)
	if err != nil || len(fs) != 2 || fs[0].Value != 0x1201 || !bytes.Equal(fs[1].Bytes, unhex("407e05")) {
		t.Errorf("poll timeout status fields %+v, %v", fs, err)
	}
	for _, op := range []access.Opcode{access.OpNetworkTransmitGet, access.OpHeartbeatPublicationGet, access.OpHeartbeatSubscriptionGet} {
		if _, err := access.DecodeFields(op, nil, nil); err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
	if _, err := access.DecodeFields(access.OpSIGModelAppGet, unhex("01120010"), nil); err != nil {
		t.Error(err)
	}
}
