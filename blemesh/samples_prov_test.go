//go:build !tinygo

package blemesh_test

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/prov"
	"github.com/edgekit/edgekit/blemesh/proxy"
)

// Checkers of the provisioning and proxy sample kinds (blemesh/prov and
// blemesh/proxy): p256_ecdh, provisioning_crypto, pb_adv, proxy_pdu_sar,
// provisioning_service_data and proxy_service_data. Each checks the encode
// direction (inputs give the expected bytes) and the decode direction (the
// expected bytes give back the inputs).

func init() {
	register("p256_ecdh", checkP256ECDH)
	register("provisioning_crypto", checkProvisioningCrypto)
	register("pb_adv", checkPBADV)
	register("proxy_pdu_sar", checkProxyPDUSAR)
	register("provisioning_service_data", checkProvisioningServiceData)
	register("proxy_service_data", checkProxyServiceData)
}

func checkP256ECDH(c *checkCtx, s *sample) {
	p, err := prov.NewP256(c.hex("inputs.provisioner_private_key"))
	if err != nil {
		c.fatalf("provisioner private key: %v", err)
	}
	d, err := prov.NewP256(c.hex("inputs.device_private_key"))
	if err != nil {
		c.fatalf("device private key: %v", err)
	}
	pp, dp := p.PublicKey(), d.PublicKey()
	c.expectHex("expected.provisioner_public_key", pp[:])
	c.expectHex("expected.device_public_key", dp[:])
	// Both ends of the key agreement, each from the other's public key as
	// carried in a Public Key PDU (decoded from its wire form).
	var pkP, pkD prov.PublicKey
	if _, err := pkP.Decode(append([]byte{byte(prov.TypePublicKey)}, pp[:]...)); err != nil {
		c.fatalf("public key PDU: %v", err)
	}
	if _, err := pkD.Decode(append([]byte{byte(prov.TypePublicKey)}, dp[:]...)); err != nil {
		c.fatalf("public key PDU: %v", err)
	}
	s1, err := p.ECDH(&pkD.Key)
	if err != nil {
		c.fatalf("provisioner ECDH: %v", err)
	}
	s2, err := d.ECDH(&pkP.Key)
	if err != nil {
		c.fatalf("device ECDH: %v", err)
	}
	c.check(s1 == s2, "ECDH secrets differ: %x %x", s1, s2)
	c.expectHex("expected.ecdh_secret", s1[:])
}

// decodePDU decodes a PDU value (without its type octet) of type t and
// checks that it re-encodes to the same octets.
func decodePDUValue(c *checkCtx, path string, t prov.PDUType, v interface {
	Decode([]byte) (int, error)
	AppendBinary([]byte) ([]byte, error)
}) []byte {
	val := c.hex(path)
	wire := append([]byte{byte(t)}, val...)
	if _, err := v.Decode(wire); err != nil {
		c.fatalf("%s: %v", path, err)
	}
	out, err := v.AppendBinary(nil)
	c.check(err == nil && bytes.Equal(out, wire), "%s: decoded and re-encoded %x; want %x", path, out, wire)
	return val
}

func checkProvisioningCrypto(c *checkCtx, s *sample) {
	algName := c.str("inputs.algorithm")
	var alg prov.Algorithm
	switch algName {
	case prov.AlgCMAC.String():
		alg = prov.AlgCMAC
	case prov.AlgHMAC.String():
		alg = prov.AlgHMAC
	default:
		c.fatalf("unknown algorithm %q", algName)
	}
	var inv prov.Invite
	var caps prov.Capabilities
	var start prov.Start
	decodePDUValue(c, "inputs.invite_pdu_value", prov.TypeInvite, &inv)
	decodePDUValue(c, "inputs.capabilities_pdu_value", prov.TypeCapabilities, &caps)
	decodePDUValue(c, "inputs.start_pdu_value", prov.TypeStart, &start)
	c.check(start.Algorithm == alg, "Start PDU algorithm %v; sample says %s", start.Algorithm, algName)
	c.check(start.Supported(&caps), "Start %+v not supported by Capabilities %+v", start, caps)
	ppk := [64]byte(c.hex("inputs.provisioner_public_key"))
	dpk := [64]byte(c.hex("inputs.device_public_key"))

	sess := prov.Session{Algorithm: alg}
	sess.Inputs = prov.ConfirmationInputs(&inv, &caps, &start, &ppk, &dpk)
	c.expectHex("expected.confirmation_inputs", sess.Inputs[:])
	copy(sess.ECDHSecret[:], c.hex("inputs.ecdh_secret"))
	auth := c.hex("inputs.auth_value")
	c.check(len(auth) == alg.AuthSize(), "auth_value has %d octets; want %d", len(auth), alg.AuthSize())
	copy(sess.AuthValue[:], auth)
	if err := sess.DeriveConfirmationKey(); err != nil {
		c.fatalf("DeriveConfirmationKey: %v", err)
	}
	n := alg.AuthSize()
	c.expectHex("expected.confirmation_salt", sess.ConfirmationSalt[:n])
	c.expectHex("expected.confirmation_key", sess.ConfirmationKey[:n])
	rp, ok1 := prov.ValueOf(c.hex("inputs.random_provisioner"))
	rd, ok2 := prov.ValueOf(c.hex("inputs.random_device"))
	if !ok1 || !ok2 || int(rp.Len) != n || int(rd.Len) != n {
		c.fatalf("random values of the wrong length")
	}
	cp, err := sess.Confirm(&rp)
	if err != nil {
		c.fatalf("Confirm: %v", err)
	}
	cd, _ := sess.Confirm(&rd)
	c.expectHex("expected.confirmation_provisioner", cp.Bytes())
	c.expectHex("expected.confirmation_device", cd.Bytes())
	// Decode direction: the peers verify each other's Confirmation PDU.
	for _, x := range []struct {
		conf, rnd prov.Value
		who       string
	}{{cp, rp, "provisioner"}, {cd, rd, "device"}} {
		var pdu prov.Confirmation
		wire, _ := (&prov.Confirmation{Value: x.conf}).AppendBinary(nil)
		_, err := pdu.Decode(wire)
		c.check(err == nil && sess.Verify(&pdu.Value, &x.rnd), "%s confirmation does not verify", x.who)
	}
	if err := sess.DeriveSessionKeys(&rp, &rd); err != nil {
		c.fatalf("DeriveSessionKeys: %v", err)
	}
	c.expectHex("expected.provisioning_salt", sess.ProvisioningSalt[:])
	c.expectHex("expected.session_key", sess.SessionKey[:])
	c.expectHex("expected.session_nonce", sess.SessionNonce[:])
	c.expectHex("expected.device_key", sess.DeviceKey[:])

	pd := prov.ProvisioningData{
		NetKey:         c.key16("inputs.provisioning_data.net_key"),
		KeyIndex:       uint16(c.uint("inputs.provisioning_data.key_index")),
		Flags:          uint8(c.uint("inputs.provisioning_data.flags")),
		IVIndex:        uint32(c.uint("inputs.provisioning_data.iv_index")),
		UnicastAddress: uint16(c.uint("inputs.provisioning_data.unicast_address")),
	}
	enc, err := pd.AppendBinary(nil)
	if err != nil {
		c.fatalf("provisioning data: %v", err)
	}
	c.expectHex("inputs.provisioning_data.encoded", enc)
	data, err := sess.EncryptData(&pd)
	if err != nil {
		c.fatalf("EncryptData: %v", err)
	}
	c.expectHex("expected.encrypted_provisioning_data", data.Encrypted[:])
	c.expectHex("expected.provisioning_data_mic", data.MIC[:])
	// Decode direction: the device decrypts the Data PDU back to the inputs.
	wire, _ := data.AppendBinary(nil)
	var dp prov.Data
	if _, err := dp.Decode(wire); err != nil {
		c.fatalf("Data PDU: %v", err)
	}
	back, err := sess.DecryptData(&dp)
	c.check(err == nil && back == pd, "DecryptData = %+v, %v; want %+v", back, err, pd)
	dp.MIC[7] ^= 1
	_, err = sess.DecryptData(&dp)
	c.check(err == prov.ErrDecryption, "corrupted MIC: %v; want ErrDecryption", err)
}

// closeReason reads a Link Close reason given as a hex string, a JSON
// integer or a name.
func closeReason(c *checkCtx, path string) prov.CloseReason {
	switch v := c.value(path).(type) {
	case float64:
		return prov.CloseReason(v)
	case string:
		for r := prov.CloseSuccess; r <= prov.CloseFail; r++ {
			if v == r.String() {
				return r
			}
		}
		n, err := strconv.ParseUint(v, 16, 8)
		if err != nil {
			c.fatalf("%s: unknown reason %q", path, v)
		}
		return prov.CloseReason(n)
	}
	c.fatalf("%s: unknown reason", path)
	return 0
}

func checkPBADV(c *checkCtx, s *sample) {
	linkID := uint32(c.uint("inputs.link_id"))
	txn := uint8(c.uint("inputs.transaction_number"))
	nPDUs := c.length("expected.generic_provisioning_pdus")
	frame := func(i int) string { return fmt.Sprintf("expected.generic_provisioning_pdus[%d]", i) }
	wireOf := func(i int) []byte {
		str := c.peekStr(frame(i))
		b, err := hexDecode(str)
		if err != nil {
			c.fatalf("%s: %v", frame(i), err)
		}
		return b
	}
	if c.has("inputs.control") {
		ctl := c.str("inputs.control")
		if nPDUs != 1 {
			c.fatalf("control message in %d PDUs", nPDUs)
		}
		var got []byte
		var want prov.PBADV
		want.LinkID, want.GPCF = linkID, prov.GPCFBearerControl
		switch ctl {
		case "link_open":
			uuid := c.key16("inputs.device_uuid")
			got = prov.AppendLinkOpen(nil, linkID, &uuid)
			want.Opcode, want.DeviceUUID = prov.LinkOpen, uuid
		case "link_ack":
			got = prov.AppendLinkAck(nil, linkID)
			want.Opcode = prov.LinkAck
		case "link_close":
			var r prov.CloseReason
			switch {
			case c.has("inputs.reason"):
				r = closeReason(c, "inputs.reason")
			case c.has("inputs.close_reason"):
				r = closeReason(c, "inputs.close_reason")
			default:
				c.fatalf("link_close without a reason")
			}
			got = prov.AppendLinkClose(nil, linkID, r)
			want.Opcode, want.Reason = prov.LinkClose, r
		default:
			c.fatalf("unknown control %q", ctl)
		}
		c.check(txn == 0, "bearer control with transaction number %#x", txn)
		wire := wireOf(0)
		c.expectHex(frame(0), got)
		// Decode direction.
		var p prov.PBADV
		_, err := p.Decode(wire)
		c.check(err == nil && p.LinkID == want.LinkID && p.TransactionNumber == txn && p.GPCF == want.GPCF &&
			p.Opcode == want.Opcode && p.DeviceUUID == want.DeviceUUID && p.Reason == want.Reason,
			"decoded %+v, %v; want %+v", p, err, want)
		// A device link answers Link Open with Link Ack and closes on Link Close.
		if ctl == "link_open" {
			dl, _ := prov.NewDeviceLink(prov.LinkConfig{}, want.DeviceUUID)
			_, err := dl.Receive(time.Unix(0, 0), wire)
			ack, ok := dl.Transmit(time.Unix(0, 0), nil)
			c.check(err == nil && ok && dl.State() == prov.LinkEstablished && bytes.Equal(ack, prov.AppendLinkAck(nil, linkID)),
				"device link did not accept Link Open: %v %v %x", err, dl.State(), ack)
		}
		return
	}

	pdu := c.hex("inputs.provisioning_pdu")
	if _, err := prov.PeekType(pdu); err != nil {
		c.errorf("inputs.provisioning_pdu is not a provisioning PDU: %v", err)
	}
	// Encode direction: segmentation, FCS, acknowledgment.
	segs := prov.Segments(len(pdu))
	c.check(segs == nPDUs, "%d segments; sample has %d", segs, nPDUs)
	for i := 0; i < nPDUs && i < segs; i++ {
		got, err := prov.AppendSegment(nil, linkID, txn, pdu, i)
		if err != nil {
			c.fatalf("segment %d: %v", i, err)
		}
		c.expectHex(frame(i), got)
	}
	if c.has("expected.fcs") {
		c.expectHex("expected.fcs", []byte{prov.FCS(pdu)})
	}
	ackWire := prov.AppendAck(nil, linkID, txn)
	if c.has("expected.transaction_ack") {
		str := c.peekStr("expected.transaction_ack")
		if b, err := hexDecode(str); err == nil {
			ackWire = b
		}
		c.expectHex("expected.transaction_ack", prov.AppendAck(nil, linkID, txn))
	}

	// Decode direction 1: parse each PDU and reassemble by hand.
	var total int
	var fcs uint8
	var re []byte
	for i := 0; i < nPDUs; i++ {
		var p prov.PBADV
		if _, err := p.Decode(wireOf(i)); err != nil {
			c.fatalf("%s: %v", frame(i), err)
		}
		c.check(p.LinkID == linkID && p.TransactionNumber == txn, "%s: link %#x transaction %#x", frame(i), p.LinkID, p.TransactionNumber)
		if i == 0 {
			c.check(p.GPCF == prov.GPCFTransactionStart && int(p.SegN) == nPDUs-1, "%s: GPCF %v SegN %d", frame(i), p.GPCF, p.SegN)
			total, fcs = int(p.TotalLength), p.FCS
		} else {
			c.check(p.GPCF == prov.GPCFTransactionContinuation && int(p.SegmentIndex) == i, "%s: GPCF %v index %d", frame(i), p.GPCF, p.SegmentIndex)
		}
		re = append(re, p.Data...)
	}
	c.check(total == len(re) && fcs == prov.FCS(re), "reassembled %d octets (announced %d), FCS %#x", len(re), total, fcs)
	c.expectBytes("reassembled provisioning PDU", re, pdu)
	var ack prov.PBADV
	_, err := ack.Decode(ackWire)
	c.check(err == nil && ack.GPCF == prov.GPCFTransactionAck && ack.LinkID == linkID && ack.TransactionNumber == txn,
		"transaction ack decodes to %+v, %v", ack, err)

	// Decode direction 2: a receiving Link reassembles the PDUs in reverse
	// order (continuations before the start) and acknowledges.
	now := time.Unix(0, 0)
	var l *prov.Link
	if txn < 0x80 { // provisioner to device
		uuid := [16]byte{1}
		l, _ = prov.NewDeviceLink(prov.LinkConfig{MaxPDULen: prov.MaxTransactionLen}, uuid)
		l.Receive(now, prov.AppendLinkOpen(nil, linkID, &uuid))
		l.Transmit(now, nil) // Link Ack
		// Walk the link's expected transaction number up to txn.
		for n := uint8(0); n != txn; n = (n + 1) & 0x7f {
			seg, _ := prov.AppendSegment(nil, linkID, n, []byte{0x04}, 0)
			l.Receive(now, seg)
		}
	} else { // device to provisioner
		l, _ = prov.NewProvisionerLink(prov.LinkConfig{MaxPDULen: prov.MaxTransactionLen}, linkID, [16]byte{1})
		l.Open(now)
		l.Receive(now, prov.AppendLinkAck(nil, linkID))
		for n := uint8(0x80); n != txn; n = (n+1)&0x7f | 0x80 {
			seg, _ := prov.AppendSegment(nil, linkID, n, []byte{0x04}, 0)
			l.Receive(now, seg)
		}
	}
	for _, ok := l.Transmit(now, nil); ok; _, ok = l.Transmit(now, nil) {
	}
	var got []byte
	for i := nPDUs - 1; i >= 0; i-- {
		out, err := l.Receive(now, wireOf(i))
		if err != nil {
			c.fatalf("link receive %s: %v", frame(i), err)
		}
		if out != nil {
			got = append([]byte(nil), out...)
		}
	}
	c.expectBytes("PDU reassembled by a Link", got, pdu)
	b, ok := l.Transmit(now, nil)
	c.check(ok && bytes.Equal(b, ackWire), "link acknowledged with %x; want %x", b, ackWire)
}

// hexOrInt reads a number given as a hex string (the schema's convention)
// or as a JSON integer.
func hexOrInt(c *checkCtx, path string) uint64 {
	switch v := c.value(path).(type) {
	case string:
		n, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			c.fatalf("%s: %v", path, err)
		}
		return n
	case float64:
		return uint64(v)
	}
	c.fatalf("%s: not a number", path)
	return 0
}

func hexDecode(s string) ([]byte, error) {
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		b[i] = byte(v)
	}
	if len(s)%2 != 0 {
		return nil, strconv.ErrSyntax
	}
	return b, nil
}

func checkProxyPDUSAR(c *checkCtx, s *sample) {
	mtu := c.int("inputs.att_mtu")
	typ := proxy.Type(c.uint("inputs.proxy_pdu_type"))
	payload := c.hex("inputs.payload")
	seg, err := proxy.NewSegmenter(mtu, typ, payload)
	if err != nil {
		c.fatalf("NewSegmenter: %v", err)
	}
	n := c.length("expected.att_values")
	c.check(seg.Remaining() == n && proxy.Segments(mtu, len(payload)) == n, "%d ATT values; sample has %d", seg.Remaining(), n)
	values := make([][]byte, n)
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("expected.att_values[%d]", i)
		str := c.peekStr(path)
		values[i], err = hexDecode(str)
		if err != nil {
			c.fatalf("%s: %v", path, err)
		}
		got, ok := seg.Next(nil)
		if !ok {
			c.fatalf("segmenter ended before %s", path)
		}
		c.check(len(got) <= mtu-3, "%s: %d octets exceed ATT_MTU-3", path, len(got))
		c.expectHex(path, got)
	}
	_, more := seg.Next(nil)
	c.check(!more, "segmenter produced more values than the sample")
	// Decode direction.
	r, _ := proxy.NewReassembler(proxy.Config{})
	var gotType proxy.Type
	var msg []byte
	for i, v := range values {
		t, m, done, err := r.Feed(time.Unix(0, 0), v)
		if err != nil {
			c.fatalf("reassemble value %d: %v", i, err)
		}
		if done {
			gotType, msg = t, append([]byte(nil), m...)
			c.check(i == len(values)-1, "message complete at value %d of %d", i, len(values))
		}
	}
	c.check(gotType == typ, "reassembled type %v; want %v", gotType, typ)
	c.expectBytes("reassembled payload", msg, payload)
	// For a provisioning PDU, PB-GATT gives back the same PDU.
	if typ == proxy.TypeProvisioning {
		g, _ := prov.NewGATTBearer(prov.GATTConfig{MTU: mtu})
		var out []byte
		for _, v := range values {
			pdu, err := g.Receive(time.Unix(0, 0), v)
			if err != nil {
				c.fatalf("PB-GATT: %v", err)
			}
			if pdu != nil {
				out = append([]byte(nil), pdu...)
			}
		}
		c.expectBytes("PB-GATT provisioning PDU", out, payload)
		g.Send(payload)
		for i := 0; ; i++ {
			v, ok := g.Transmit(nil)
			if !ok {
				c.check(i == len(values), "PB-GATT sent %d values; want %d", i, len(values))
				break
			}
			c.check(i < len(values) && bytes.Equal(v, values[i]), "PB-GATT value %d = %x", i, v)
		}
	}
}

func checkProvisioningServiceData(c *checkCtx, s *sample) {
	uuid := c.key16("inputs.device_uuid")
	oob := uint16(hexOrInt(c, "inputs.oob_information"))
	for _, form := range []struct {
		path string
		le   bool
	}{
		{"expected.adv_data_as_printed_in_spec", true}, // the spec prints OOB Information little-endian
		{"expected.adv_data_big_endian_oob", false},    // Zephyr and the beacon's order
	} {
		d := proxy.ProvisioningServiceData{DeviceUUID: uuid, OOBInfo: oob, OOBLittleEndian: form.le}
		got, err := d.AppendBinary(nil)
		if err != nil {
			c.fatalf("AppendBinary: %v", err)
		}
		str := c.peekStr(form.path)
		wire, err := hexDecode(str)
		if err != nil {
			c.fatalf("%s: %v", form.path, err)
		}
		c.expectHex(form.path, got)
		back := proxy.ProvisioningServiceData{OOBLittleEndian: form.le}
		n, err := back.Decode(wire)
		c.check(err == nil && n == len(wire) && back.DeviceUUID == uuid && back.OOBInfo == oob,
			"%s decodes to %+v, %v", form.path, back, err)
	}
}

func checkProxyServiceData(c *checkCtx, s *sample) {
	netKey := c.key16("inputs.net_key")
	typ := proxy.IdentificationType(c.uint("inputs.type"))
	ik := crypto.IdentityKey(netKey)
	nid := crypto.NetworkID(netKey)
	var d proxy.ProxyServiceData
	var random [8]byte
	var addr uint16
	if c.has("inputs.random") {
		copy(random[:], c.hex("inputs.random"))
	}
	if c.has("inputs.src") {
		addr = uint16(c.uint("inputs.src"))
	}
	switch typ {
	case proxy.IDNetwork:
		d = proxy.NetworkIDServiceData(nid)
		c.expectHex("expected.network_id", d.NetworkID[:])
	case proxy.IDNode:
		d = proxy.NodeIdentityServiceData(ik, random, addr)
	case proxy.IDPrivateNetwork:
		d = proxy.PrivateNetworkIdentityServiceData(ik, nid, random)
	case proxy.IDPrivateNode:
		d = proxy.PrivateNodeIdentityServiceData(ik, random, addr)
	default:
		c.fatalf("unknown identification type %#x", typ)
	}
	if typ != proxy.IDNetwork {
		c.expectHex("expected.identity_key", ik[:])
		c.expectHex("expected.hash", d.Hash[:])
	}
	if c.has("expected.network_id") && typ != proxy.IDNetwork {
		c.expectHex("expected.network_id", nid[:])
	}
	got, err := d.AppendBinary(nil)
	if err != nil {
		c.fatalf("AppendBinary: %v", err)
	}
	str := c.peekStr("expected.adv_data")
	wire, err := hexDecode(str)
	if err != nil {
		c.fatalf("adv_data: %v", err)
	}
	c.expectHex("expected.adv_data", got)
	// Decode direction: parse the advertisement and match it as a proxy
	// client would.
	var back proxy.ProxyServiceData
	n, err := back.Decode(wire)
	c.check(err == nil && n == len(wire) && back == d, "adv_data decodes to %+v, %v; want %+v", back, err, d)
	switch typ {
	case proxy.IDNetwork, proxy.IDPrivateNetwork:
		c.check(back.MatchNetwork(ik, nid), "advertisement does not match its network")
	default:
		c.check(back.MatchNode(ik, addr) && !back.MatchNode(ik, addr+1), "advertisement does not match its node only")
		c.check(back.Random == random, "random %x; want %x", back.Random, random)
	}
}
