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
			if len(data) == 0 {
				c.fatalf("inputs.uri_data is empty (it starts with the URI scheme code)")
			}
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

// proseKeys are the keys whose string values are descriptions for the
// reader (model names, location descriptions); they carry no value the
// wire could confirm. Only these exact keys are accepted unchecked.
var proseKeys = map[string]bool{
	"name": true, "model_name": true, "description": true, "comment": true, "note": true, "notes": true,
	"loc_description": true, "location_description": true, "meaning": true,
}

func (c *checkCtx) expectNumAt(path string, got uint64) {
	c.t.Helper()
	v, ok := jsonNum(c.value(path))
	c.check(ok && v == got, "%s = %v; decoded %#x", path, v, got)
}

// objectKeys returns the keys of the object at path, or fails the sample
// when the value there is not an object.
func (c *checkCtx) objectKeys(path string) []string {
	c.t.Helper()
	v, ok := lookup(c.root(), path)
	if !ok {
		c.fatalf("missing field %s", path)
	}
	if _, isObj := v.(map[string]any); !isObj {
		c.fatalf("%s is a %T, not an object", path, v)
	}
	return c.keys(path)
}

// consumeProseKey consumes path.k when k is a prose key holding a string,
// and reports whether it did.
func (c *checkCtx) consumeProseKey(path, k string) bool {
	if !proseKeys[k] {
		return false
	}
	v, _ := lookup(c.root(), path+"."+k)
	if _, isStr := v.(string); !isStr {
		return false
	}
	c.consume(path + "." + k)
	return true
}

// expectModelAt checks a model identifier written as a number (vendor:
// company << 16 | model), or as an object with the identifier (and company)
// fields plus prose. Any other field fails.
func (c *checkCtx) expectModelAt(q string, id, company uint64, vendor bool) {
	c.t.Helper()
	v, _ := lookup(c.root(), q)
	if _, isObj := v.(map[string]any); !isObj {
		if vendor {
			c.expectNumAt(q, company<<16|id)
		} else {
			c.expectNumAt(q, id)
		}
		return
	}
	sawID, sawCompany, idHasCompany := false, false, false
	for _, k := range c.objectKeys(q) {
		p := q + "." + k
		switch k {
		case "model_id", "id", "model", "sig_model_id", "vendor_model_id", "model_identifier":
			sawID = true
			if vendor {
				// Either the 16-bit model id or company << 16 | model.
				n, ok := jsonNum(c.value(p))
				idHasCompany = ok && n == company<<16|id && n > 0xffff
				c.check(ok && (n == id || n == company<<16|id), "%s = %v; decoded model %#x of company %#x", p, n, id, company)
			} else {
				c.expectNumAt(p, id)
			}
		case "company_id", "cid", "company", "company_identifier":
			sawCompany = true
			if !vendor {
				c.errorf("%s: company identifier on a SIG model", p)
				c.consume(p)
				continue
			}
			c.expectNumAt(p, company)
		default:
			if !c.consumeProseKey(q, k) {
				c.errorf("%s: unknown model field", p)
				c.consume(p)
			}
		}
	}
	c.check(sawID, "%s: no model identifier field", q)
	if vendor && !sawCompany {
		c.check(idHasCompany, "%s: no company identifier field", q)
	}
}

var featureBits = map[string]uint16{"relay": access.FeatureRelay, "proxy": access.FeatureProxy, "friend": access.FeatureFriend, "low_power": access.FeatureLowPower}

func normFeature(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, " ", "_")
	s = strings.ReplaceAll(s, "-", "_")
	switch s {
	case "lpn", "low_power_node", "lowpower":
		s = "low_power"
	}
	return s
}

// checkFeaturesDecoded checks expected.features_decoded: a list or string
// of the feature names that are on, or an object name -> supported.
func checkFeaturesDecoded(c *checkCtx, features uint16) {
	c.t.Helper()
	const p = "expected.features_decoded"
	on := func(k string) bool { return features&featureBits[k] != 0 }
	listed := func(names []string, what any) {
		set := map[string]bool{}
		for _, w := range names {
			k := normFeature(w)
			if _, known := featureBits[k]; !known {
				c.errorf("%s: unknown feature %q", p, w)
				continue
			}
			set[k] = true
		}
		for k := range featureBits {
			c.check(set[k] == on(k), "%s %v: %s = %v", p, what, k, on(k))
		}
	}
	switch v := c.value(p).(type) {
	case []any:
		var names []string
		for i, e := range v {
			str, ok := e.(string)
			if !ok {
				c.errorf("%s[%d] is a %T, not a feature name", p, i, e)
				continue
			}
			names = append(names, str)
		}
		listed(names, v)
	case string:
		listed(strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '+' || r == '|' || r == '/' }), v)
	case map[string]any:
		for k, e := range v {
			nk := normFeature(k)
			if _, known := featureBits[nk]; !known {
				c.errorf("%s.%s: unknown feature", p, k)
				continue
			}
			b, ok := jsonNum(e)
			c.check(ok && b <= 1 && (b != 0) == on(nk), "%s.%s = %v; decoded %v", p, k, e, on(nk))
		}
	default:
		c.errorf("%s has type %T", p, v)
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
	checkFeaturesDecoded(c, cp.Features)
	if v, _ := lookup(c.root(), "expected.elements"); v == nil {
		c.fatalf("missing field expected.elements")
	} else if _, isArr := v.([]any); !isArr {
		c.fatalf("expected.elements is a %T, not an array", v)
	}
	nWant := c.length("expected.elements")
	if nWant == 0 {
		c.consume("expected.elements")
	}
	it := cp.Iter()
	var e access.Element
	i := 0
	for ; it.Next(&e); i++ {
		p := idx("expected.elements", i)
		if i >= nWant {
			c.errorf("element %d decoded but not expected", i)
			continue
		}
		for _, k := range c.objectKeys(p) {
			q := p + "." + k
			switch k {
			case "loc", "location":
				c.expectNumAt(q, uint64(e.Loc))
			case "num_s", "nums", "num_sig_models":
				c.expectNumAt(q, uint64(e.NumS))
			case "num_v", "numv", "num_vendor_models":
				c.expectNumAt(q, uint64(e.NumV))
			case "sig_models", "sig_model_ids", "models":
				checkModelList(c, q, int(e.NumS), func(j int) (uint64, uint64) { return uint64(e.SIGModel(j)), 0 }, false)
			case "vendor_models", "vendor_model_ids":
				checkModelList(c, q, int(e.NumV), func(j int) (uint64, uint64) {
					vm := e.VendorModel(j)
					return uint64(vm.ID), uint64(vm.CompanyID)
				}, true)
			default:
				if !c.consumeProseKey(p, k) {
					c.errorf("%s: unknown element field", q)
					c.consume(q)
				}
			}
		}
	}
	if it.Err() != nil {
		c.errorf("elements: %v", it.Err())
	}
	c.check(nWant == i, "%d elements expected; decoded %d", nWant, i)
}

func checkModelList(c *checkCtx, q string, want int, model func(j int) (id, company uint64), vendor bool) {
	c.t.Helper()
	v, _ := lookup(c.root(), q)
	if _, isArr := v.([]any); !isArr {
		c.errorf("%s is a %T, not an array", q, v)
		c.consume(q)
		return
	}
	n := c.length(q)
	c.check(n == want, "%s has %d models; decoded %d", q, n, want)
	for j := 0; j < n; j++ {
		if j >= want {
			c.consume(idx(q, j))
			continue
		}
		id, company := model(j)
		c.expectModelAt(idx(q, j), id, company, vendor)
	}
	if n == 0 {
		c.consume(q)
	}
}
