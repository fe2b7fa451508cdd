//go:build !tinygo

package blemesh_test

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/crypto"
	"github.com/edgekit/edgekit/blemesh/network"
)

// expectOneOf checks the hex string at path against several encodings the
// schema leaves open (for example with or without the AD header), and names
// the one that matched in the log.
func (c *checkCtx) expectOneOf(path string, forms map[string][]byte) {
	c.t.Helper()
	want := strings.ToLower(c.str(path))
	for name, b := range forms {
		if hex.EncodeToString(b) == want {
			c.t.Logf("sample %s: %s matches the %s form", c.s.ID, path, name)
			c.pass()
			return
		}
	}
	var got []string
	for name, b := range forms {
		got = append(got, name+"="+hex.EncodeToString(b))
	}
	c.errorf("%s = %s; computed %s", path, want, strings.Join(got, ", "))
}

func adStructure(adType byte, data []byte) []byte {
	return append([]byte{byte(len(data) + 1), adType}, data...)
}

// uriSchemes are the URI scheme name string codes of the Bluetooth Assigned
// Numbers used in URI data (Core Specification Supplement, Part A §1.18).
var uriSchemes = map[byte]string{0x01: "", 0x16: "http:", 0x17: "https:", 0x0d: "coap:", 0x0e: "coaps:", 0x1b: "mailto:", 0x1e: "tel:"}

func init() {
	register("unprovisioned_device_beacon", func(c *checkCtx, s *sample) {
		var u beacon.Unprovisioned
		copy(u.UUID[:], c.hex("inputs.device_uuid"))
		oob := c.hex("inputs.oob_information")
		if len(oob) != 2 {
			c.fatalf("oob_information %x", oob)
		}
		u.OOBInfo = uint16(oob[0])<<8 | uint16(oob[1])
		c.consume("inputs.oob_meaning")
		if c.has("inputs.uri") && !c.has("inputs.uri_data") {
			// Encode the URI: the longest known scheme prefix becomes its code.
			uri := c.str("inputs.uri")
			code, rest := byte(0x01), uri
			for k, sch := range uriSchemes {
				if sch != "" && strings.HasPrefix(uri, sch) && len(sch) > len(uri)-len(rest) {
					code, rest = k, uri[len(sch):]
				}
			}
			data := append([]byte{code}, rest...)
			u.HasURIHash = true
			u.URIHash = beacon.URIHash(data)
			c.expectHex("expected.uri_hash", u.URIHash[:])
		}
		if c.has("inputs.uri_data") {
			data := c.hex("inputs.uri_data")
			if c.has("inputs.uri") {
				uri := c.str("inputs.uri")
				scheme, ok := uriSchemes[data[0]]
				c.check(ok && scheme+string(data[1:]) == uri, "uri_data %x does not encode uri %q", data, uri)
			}
			u.HasURIHash = true
			u.URIHash = beacon.URIHash(data)
			c.expectHex("expected.uri_hash", u.URIHash[:])
		}
		b, err := u.AppendBinary(nil)
		if err != nil {
			c.fatalf("%v", err)
		}
		c.expectHex("expected.beacon", b)
		if c.has("expected.ad_structure") {
			c.expectHex("expected.ad_structure", adStructure(beacon.ADType, b))
		}
		var back beacon.Unprovisioned
		_, err = back.Decode(b)
		c.check(err == nil && back == u, "decode: %+v, %v", back, err)
	})

	register("secure_network_beacon", func(c *checkCtx, s *sample) {
		keys := beacon.NewNetKeys(c.key16("inputs.net_key"))
		c.expectHex("expected.beacon_key", keys.BeaconKey[:])
		c.expectHex("expected.network_id", keys.NetworkID[:])
		sb := beacon.SecureNetwork{Flags: c.octet("inputs.flags"), NetworkID: keys.NetworkID, IVIndex: uint32(c.uint("inputs.iv_index"))}
		b, err := keys.SealSecure(nil, &sb)
		if err != nil {
			c.fatalf("%v", err)
		}
		c.expectHex("expected.authentication_value", sb.Auth[:])
		c.expectHex("expected.beacon", b)
		if c.has("expected.ad_structure") {
			c.expectHex("expected.ad_structure", adStructure(beacon.ADType, b))
		}
		var back beacon.SecureNetwork
		err = keys.OpenSecure(&back, b)
		c.check(err == nil && back == sb, "open: %+v, %v", back, err)
		b[len(b)-1] ^= 1
		c.check(keys.OpenSecure(&back, b) == beacon.ErrAuth, "tampered beacon authenticated")
	})

	register("mesh_private_beacon", func(c *checkCtx, s *sample) {
		keys := beacon.NewNetKeys(c.key16("inputs.net_key"))
		c.expectHex("expected.private_beacon_key", keys.PrivateBeaconKey[:])
		p := beacon.MeshPrivate{Flags: c.octet("inputs.flags"), IVIndex: uint32(c.uint("inputs.iv_index"))}
		copy(p.Random[:], c.hex("inputs.random"))
		b, err := keys.SealPrivate(nil, &p)
		if err != nil {
			c.fatalf("%v", err)
		}
		c.expectHex("expected.obfuscated_private_beacon_data", p.Obfuscated[:])
		c.expectHex("expected.authentication_tag", p.AuthTag[:])
		c.expectHex("expected.beacon", b)
		if c.has("expected.ad_structure") {
			c.expectHex("expected.ad_structure", adStructure(beacon.ADType, b))
		}
		var back beacon.MeshPrivate
		err = keys.OpenPrivate(&back, b)
		c.check(err == nil && back == p, "open: %+v, %v", back, err)
	})

	register("proxy_configuration_message", func(c *checkCtx, s *sample) {
		keys := network.FloodingKeys(c.key16("inputs.net_key"))
		checkOptionalKeys(c, &keys)
		h := network.Header{
			IVIndex: uint32(c.uint("inputs.iv_index")),
			SEQ:     uint32(c.uint("inputs.seq")),
			SRC:     uint16(c.uint("inputs.src")),
			DST:     uint16(c.uint("inputs.dst")),
			CTL:     c.int("inputs.ctl") == 1,
			TTL:     uint8(c.int("inputs.ttl")),
		}
		tp := c.hex("inputs.transport_pdu")
		var pc network.ProxyConfig
		_, err := pc.Decode(tp)
		c.check(err == nil, "transport_pdu %x is not a valid proxy configuration message: %v", tp, err)
		nonce := crypto.ProxyNonce(h.SEQ, h.SRC, h.IVIndex)
		c.expectHex("expected.proxy_nonce", nonce[:])
		msg, err := keys.SealNonce(nil, &h, tp, network.ProxyNonce)
		if err != nil {
			c.fatalf("%v", err)
		}
		checkNetworkIntermediates(c, "expected", &h, msg)
		c.expectHex("expected.proxy_message", msg)
		// Proxy PDU: SAR = complete (0b00), type = Proxy Configuration (0x02).
		c.expectHex("expected.proxy_pdu", append([]byte{0x02}, msg...))
		var back network.Header
		out, err := keys.OpenNonce(nil, &back, msg, h.IVIndex, network.ProxyNonce)
		want := h
		want.NID = keys.NID
		c.check(err == nil && back == want && bytes.Equal(out, tp), "open: %+v %x, %v", back, out, err)
		// The network nonce must not open it.
		_, err = keys.Open(nil, &back, msg, h.IVIndex)
		c.check(err == network.ErrAuth, "proxy configuration message opened with the network nonce")
	})

	register("solicitation_pdu", func(c *checkCtx, s *sample) {
		keys := network.FloodingKeys(c.key16("inputs.net_key"))
		checkOptionalKeys(c, &keys)
		h := network.Header{
			SEQ: uint32(c.uint("inputs.seq")),
			SRC: uint16(c.uint("inputs.src")),
			DST: uint16(c.uint("inputs.dst")),
			CTL: true,
		}
		if c.has("inputs.ctl") {
			h.CTL = c.int("inputs.ctl") == 1
		}
		if c.has("inputs.ttl") {
			h.TTL = uint8(c.int("inputs.ttl"))
		}
		nonce := crypto.SolicitationNonce(h.SEQ, h.SRC)
		c.expectHex("expected.solicitation_nonce", nonce[:])
		pdu, err := keys.SealNonce(nil, &h, nil, network.SolicitationNonce)
		if err != nil {
			c.fatalf("%v", err)
		}
		// The IV Index does not protect Solicitation PDUs.
		h2 := h
		h2.IVIndex = uint32(c.uint("inputs.iv_index"))
		pdu2, _ := keys.SealNonce(nil, &h2, nil, network.SolicitationNonce)
		c.check(bytes.Equal(pdu, pdu2), "solicitation PDU depends on the IV Index")
		c.expectHex("expected.enc_dst", pdu[7:9])
		c.expectHex("expected.net_mic", pdu[9:])
		if c.has("expected.privacy_plaintext") {
			var pp [16]byte
			copy(pp[9:], pdu[7:14])
			c.expectHex("expected.privacy_plaintext", pp[:])
		}
		if c.has("expected.pecb") {
			cl := []byte{0x80 | h.TTL, byte(h.SEQ >> 16), byte(h.SEQ >> 8), byte(h.SEQ), byte(h.SRC >> 8), byte(h.SRC)}
			pecb := make([]byte, 6)
			for i := range pecb {
				pecb[i] = pdu[1+i] ^ cl[i]
			}
			c.expectHex("expected.pecb", pecb)
		}
		withType := append([]byte{0x00}, pdu...) // Identification Type 0x00
		c.expectOneOf("expected.solicitation_pdu", map[string][]byte{"bare": pdu, "with identification type": withType})
		svc := append([]byte{0x59, 0x18}, withType...) // UUID 0x1859 little-endian
		c.expectOneOf("expected.service_data", map[string][]byte{"UUID||type||PDU": svc, "AD structure": adStructure(0x16, svc)})
		var back network.Header
		_, err = keys.OpenNonce(nil, &back, pdu, 0, network.SolicitationNonce)
		c.check(err == nil && back.SEQ == h.SEQ && back.SRC == h.SRC && back.DST == h.DST, "open: %+v, %v", back, err)
	})

	register("composition_data_page0", checkComposition)
}

func checkOptionalKeys(c *checkCtx, keys *network.Keys) {
	if c.has("expected.nid") {
		c.expectHex("expected.nid", []byte{keys.NID})
	}
	if c.has("expected.encryption_key") {
		c.expectHex("expected.encryption_key", keys.EncryptionKey[:])
	}
	if c.has("expected.privacy_key") {
		c.expectHex("expected.privacy_key", keys.PrivacyKey[:])
	}
}

// octet reads a one-octet field written as a hex string or a JSON integer.
func (c *checkCtx) octet(path string) uint8 {
	c.t.Helper()
	v, ok := jsonNum(c.value(path))
	if !ok || v > 0xff {
		c.fatalf("%s is not an octet", path)
	}
	return uint8(v)
}

// jsonNum reads a JSON value as a number: integers, or hex strings.
func jsonNum(v any) (uint64, bool) {
	switch x := v.(type) {
	case float64:
		return uint64(x), true
	case string:
		n, err := strconv.ParseUint(x, 16, 64)
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// firstKey returns the first of the candidate keys present at path.
func (c *checkCtx) firstKey(path string, cands ...string) (string, bool) {
	for _, k := range cands {
		if c.has(path + "." + k) {
			return path + "." + k, true
		}
	}
	return "", false
}

func (c *checkCtx) expectNumAt(path string, got uint64) {
	c.t.Helper()
	v, ok := jsonNum(c.value(path))
	c.check(ok && v == got, "%s = %v; decoded %#x", path, v, got)
}

// expectModelAt checks a model identifier written as a number, or as an
// object with the identifier (and company) fields plus prose.
func (c *checkCtx) expectModelAt(q string, id, company uint64, vendor bool) {
	c.t.Helper()
	v, _ := lookup(c.root(), q)
	if _, isObj := v.(map[string]any); !isObj {
		if vendor {
			// "CCCCMMMM" (company then model) as one number.
			c.expectNumAt(q, company<<16|id)
		} else {
			c.expectNumAt(q, id)
		}
		return
	}
	if kk, ok := c.firstKey(q, "model_id", "id", "model", "sig_model_id", "vendor_model_id"); ok {
		c.expectNumAt(kk, id)
	} else {
		c.errorf("%s: no model identifier field", q)
	}
	if vendor {
		if kk, ok := c.firstKey(q, "company_id", "cid", "company"); ok {
			c.expectNumAt(kk, company)
		} else {
			c.errorf("%s: no company identifier field", q)
		}
	}
	c.consumeProse(q)
}

// consumeProse marks the string fields under path whose key says they are
// descriptions (name, description, meaning, comment) as consumed.
func (c *checkCtx) consumeProse(path string) {
	v, _ := lookup(c.root(), path)
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, x := range m {
		lk := strings.ToLower(k)
		if _, isStr := x.(string); isStr && (strings.Contains(lk, "name") || strings.Contains(lk, "description") || strings.Contains(lk, "meaning") || strings.Contains(lk, "comment")) {
			c.consume(path + "." + k)
		}
	}
}

func checkComposition(c *checkCtx, s *sample) {
	data := c.hex("inputs.data")
	var cp access.CompositionPage0
	if _, err := cp.Decode(data); err != nil {
		c.fatalf("decode: %v", err)
	}
	out, err := cp.AppendBinary(nil)
	c.check(err == nil && bytes.Equal(out, data), "re-encode = %x, %v", out, err)
	c.expectNumAt("expected.cid", uint64(cp.CID))
	c.expectNumAt("expected.pid", uint64(cp.PID))
	c.expectNumAt("expected.vid", uint64(cp.VID))
	c.expectNumAt("expected.crpl", uint64(cp.CRPL))
	c.expectNumAt("expected.features", uint64(cp.Features))
	if c.has("expected.features_decoded") {
		names := map[string]bool{
			"relay": cp.Features&access.FeatureRelay != 0, "proxy": cp.Features&access.FeatureProxy != 0,
			"friend": cp.Features&access.FeatureFriend != 0, "low_power": cp.Features&access.FeatureLowPower != 0,
		}
		norm := func(s string) string {
			s = strings.ToLower(strings.TrimSpace(s))
			s = strings.ReplaceAll(s, " ", "_")
			s = strings.ReplaceAll(s, "-", "_")
			if s == "lpn" || s == "low_power_node" || s == "lowpower" {
				s = "low_power"
			}
			return s
		}
		switch v := c.value("expected.features_decoded").(type) {
		case []any:
			set := map[string]bool{}
			for _, e := range v {
				str, _ := e.(string)
				set[norm(str)] = true
			}
			for k, on := range names {
				c.check(set[k] == on, "features_decoded %v: %s = %v", v, k, on)
			}
		case map[string]any:
			for k, e := range v {
				on, known := names[norm(k)]
				b, _ := jsonNum(e)
				c.check(known && (b != 0) == on, "features_decoded.%s = %v; decoded %v", k, e, on)
			}
		case string:
			set := map[string]bool{}
			for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '+' || r == '|' || r == '/' }) {
				set[norm(w)] = true
			}
			for k, on := range names {
				c.check(set[k] == on, "features_decoded %q: %s = %v", v, k, on)
			}
		default:
			c.errorf("features_decoded has type %T", v)
		}
	}
	it := cp.Iter()
	var e access.Element
	i := 0
	for ; it.Next(&e); i++ {
		p := idx("expected.elements", i)
		if !c.has(p) {
			c.errorf("element %d decoded but not expected", i)
			continue
		}
		if k, ok := c.firstKey(p, "loc", "location"); ok {
			c.expectNumAt(k, uint64(e.Loc))
		}
		if k, ok := c.firstKey(p, "num_s", "nums", "num_sig_models"); ok {
			c.expectNumAt(k, uint64(e.NumS))
		}
		if k, ok := c.firstKey(p, "num_v", "numv", "num_vendor_models"); ok {
			c.expectNumAt(k, uint64(e.NumV))
		}
		if k, ok := c.firstKey(p, "sig_models", "sig_model_ids", "models"); ok {
			n := c.length(k)
			c.check(n == int(e.NumS), "%s has %d models; decoded %d", k, n, e.NumS)
			for j := 0; j < n && j < int(e.NumS); j++ {
				c.expectModelAt(idx(k, j), uint64(e.SIGModel(j)), 0, false)
			}
			if n == 0 {
				c.consume(k)
			}
		}
		if k, ok := c.firstKey(p, "vendor_models", "vendor_model_ids"); ok {
			n := c.length(k)
			c.check(n == int(e.NumV), "%s has %d models; decoded %d", k, n, e.NumV)
			for j := 0; j < n && j < int(e.NumV); j++ {
				vm := e.VendorModel(j)
				c.expectModelAt(idx(k, j), uint64(vm.ID), uint64(vm.CompanyID), true)
			}
			if n == 0 {
				c.consume(k)
			}
		}
	}
	if it.Err() != nil {
		c.errorf("elements: %v", it.Err())
	}
	// Prose that names things (model names, location descriptions) cannot be
	// checked against the wire; everything else must have been consumed.
	for j := 0; j < c.length("expected.elements"); j++ {
		c.consumeProse(idx("expected.elements", j))
	}
	c.check(c.length("expected.elements") == i, "%d elements expected; decoded %d", c.length("expected.elements"), i)
}
