//go:build !tinygo

package blemesh_test

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// fieldVal is one decoded field of a message, as the implementation sees it:
// either a number (compared with hex strings and JSON integers by value) or
// an octet string.
type fieldVal struct {
	num   uint64
	bytes []byte
	isNum bool
}

func num(v uint64) fieldVal    { return fieldVal{num: v, isNum: true} }
func octets(b []byte) fieldVal { return fieldVal{bytes: b} }
func boolNum(b bool) fieldVal {
	if b {
		return num(1)
	}
	return num(0)
}

// controlFields decodes a transport control message's parameters with the
// transport package and names its fields as the sample data does.
func controlFields(op uint8, params []byte) (map[string]fieldVal, error) {
	var set transport.ControlSet
	m, err := set.Decode(op, params)
	if err != nil {
		return nil, err
	}
	f := map[string]fieldVal{}
	switch x := m.(type) {
	case *transport.SegmentAck:
		f["obo"], f["seq_zero"], f["block_ack"] = boolNum(x.OBO), num(uint64(x.SeqZero)), num(uint64(x.BlockAck))
	case *transport.FriendPoll:
		f["fsn"] = num(uint64(x.FSN))
	case *transport.FriendUpdate:
		f["flags"], f["iv_index"], f["md"] = num(uint64(x.Flags)), num(uint64(x.IVIndex)), num(uint64(x.MD))
		f["key_refresh_flag"], f["iv_update_flag"] = boolNum(x.Flags&1 != 0), boolNum(x.Flags&2 != 0)
	case *transport.FriendRequest:
		f["criteria"], f["receive_delay"], f["poll_timeout"] = num(uint64(x.Criteria)), num(uint64(x.ReceiveDelay)), num(uint64(x.PollTimeout))
		f["previous_address"], f["num_elements"], f["lpn_counter"] = num(uint64(x.PreviousAddress)), num(uint64(x.NumElements)), num(uint64(x.LPNCounter))
		f["rssi_factor"], f["receive_window_factor"], f["min_queue_size_log"] = num(uint64(x.RSSIFactor())), num(uint64(x.ReceiveWindowFactor())), num(uint64(x.MinQueueSizeLog()))
	case *transport.FriendOffer:
		f["receive_window"], f["queue_size"], f["subscription_list_size"] = num(uint64(x.ReceiveWindow)), num(uint64(x.QueueSize)), num(uint64(x.SubscriptionListSize))
		f["rssi"], f["friend_counter"] = num(uint64(uint8(x.RSSI))), num(uint64(x.FriendCounter))
	case *transport.FriendClear:
		f["lpn_address"], f["lpn_counter"] = num(uint64(x.LPNAddress)), num(uint64(x.LPNCounter))
	case *transport.FriendClearConfirm:
		f["lpn_address"], f["lpn_counter"] = num(uint64(x.LPNAddress)), num(uint64(x.LPNCounter))
	case *transport.FriendSubscriptionList:
		f["transaction_number"], f["address_list"] = num(uint64(x.TransactionNumber)), octets(x.Addresses)
		f["addresses"] = f["address_list"]
	case *transport.FriendSubscriptionListConfirm:
		f["transaction_number"] = num(uint64(x.TransactionNumber))
	case *transport.Heartbeat:
		f["init_ttl"], f["features"] = num(uint64(x.InitTTL)), num(uint64(x.Features))
	}
	// Re-encoding must give the parameters back.
	out, err := m.AppendBinary(nil)
	if err != nil || string(out) != string(params) {
		return nil, errRoundTrip
	}
	return f, nil
}

type strErr string

func (e strErr) Error() string { return string(e) }

const errRoundTrip = strErr("re-encoding the decoded message does not give the parameters back")

// accessFields decodes an access message's parameters with the access
// package and names its fields as the sample data does.
func accessFields(op access.Opcode, params []byte) (map[string]fieldVal, error) {
	f := map[string]fieldVal{}
	var out []byte
	var err error
	switch {
	case op == access.OpAppKeyAdd || op == access.OpAppKeyUpdate:
		var m access.AppKeyAdd
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		m.Update = op == access.OpAppKeyUpdate
		f["net_key_index"], f["app_key_index"], f["app_key"] = num(uint64(m.NetKeyIndex)), num(uint64(m.AppKeyIndex)), octets(m.AppKey[:])
		out, err = m.AppendBinary(nil)
	case op == access.OpAppKeyStatus:
		var m access.AppKeyStatus
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		f["status"], f["net_key_index"], f["app_key_index"] = num(uint64(m.Status)), num(uint64(m.NetKeyIndex)), num(uint64(m.AppKeyIndex))
		out, err = m.AppendBinary(nil)
	case op == access.OpNetKeyAdd || op == access.OpNetKeyUpdate:
		var m access.NetKeyAdd
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		f["net_key_index"], f["net_key"] = num(uint64(m.NetKeyIndex)), octets(m.NetKey[:])
		out, err = m.AppendBinary(nil)
	case op == access.OpNetKeyStatus:
		var m access.NetKeyStatus
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		f["status"], f["net_key_index"] = num(uint64(m.Status)), num(uint64(m.NetKeyIndex))
		out, err = m.AppendBinary(nil)
	case op == access.OpHealthCurrentStatus || op == access.OpHealthFaultStatus:
		var m access.HealthStatus
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		f["test_id"], f["company_id"], f["fault_array"] = num(uint64(m.TestID)), num(uint64(m.CompanyID)), octets(m.Faults)
		out, err = m.AppendBinary(nil)
	case op == access.OpModelAppBind || op == access.OpModelAppUnbind:
		var m access.ModelAppBind
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		modelFields(f, m.ElementAddress, m.Model)
		f["app_key_index"] = num(uint64(m.AppKeyIndex))
		out, err = m.AppendBinary(nil)
	case op == access.OpModelAppStatus:
		var m access.ModelAppStatus
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		modelFields(f, m.ElementAddress, m.Model)
		f["status"], f["app_key_index"] = num(uint64(m.Status)), num(uint64(m.AppKeyIndex))
		out, err = m.AppendBinary(nil)
	case op == access.OpModelPublicationSet:
		var m access.ModelPublication
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		modelFields(f, m.ElementAddress, m.Model)
		f["publish_address"], f["app_key_index"], f["credential_flag"] = num(uint64(m.PublishAddress)), num(uint64(m.AppKeyIndex)), boolNum(m.CredentialFlag)
		f["publish_ttl"], f["publish_period"] = num(uint64(m.PublishTTL)), num(uint64(m.PublishPeriod))
		f["publish_retransmit_count"], f["publish_retransmit_interval_steps"] = num(uint64(m.RetransmitCount)), num(uint64(m.RetransmitIntervalSteps))
		out, err = m.AppendBinary(nil)
	case op == access.OpModelSubscriptionAdd || op == access.OpModelSubscriptionDelete || op == access.OpModelSubscriptionOverwrite:
		var m access.ModelSubscription
		if _, err = m.Decode(params); err != nil {
			return nil, err
		}
		modelFields(f, m.ElementAddress, m.Model)
		f["address"] = num(uint64(m.Address))
		out, err = m.AppendBinary(nil)
	case op.IsVendor():
		f["vendor_opcode"], f["company_id"] = num(uint64(op.VendorOpcode())), num(uint64(op.CompanyID()))
		f["parameters"] = octets(params)
		out = params
	default:
		// No typed codec: split the message by its layout.
		fs, err := access.DecodeFields(op, params, nil)
		if err == access.ErrOpcode {
			return nil, nil // unknown message: the caller falls back to the layout check
		}
		if err != nil {
			return nil, err
		}
		for _, x := range fs {
			if x.IsBytes {
				f[x.Name] = octets(x.Bytes)
			} else {
				f[x.Name] = num(x.Value)
			}
		}
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if string(out) != string(params) {
		return nil, errRoundTrip
	}
	return f, nil
}

func modelFields(f map[string]fieldVal, elem uint16, m access.ModelID) {
	f["element_address"] = num(uint64(elem))
	f["model_id"] = num(uint64(m.ID))
	if m.Vendor {
		f["company_id"] = num(uint64(m.CompanyID))
		f["model_id"] = num(uint64(m.CompanyID)<<16 | uint64(m.ID))
	}
}

// checkFields compares the sample's fields object at path with the
// implementation's decoded fields. A field the decoder does not name is
// accepted only if every field of the object is an octet string and their
// concatenation in file order is exactly params (the message is then a
// plain sequence of octet fields, which the round trip already proved).
func normName(k string) string {
	k = strings.ToLower(k)
	k = strings.NewReplacer("_", "", "-", "", " ", "").Replace(k)
	switch k {
	case "modelidentifier", "modelid", "model":
		return "modelid"
	case "elementaddr", "elementaddress", "element":
		return "elementaddress"
	case "netkeyidx", "netkeyindex", "netidx":
		return "netkeyindex"
	case "appkeyidx", "appkeyindex", "appidx":
		return "appkeyindex"
	case "faults", "faultarray":
		return "faultarray"
	}
	return k
}

func (c *checkCtx) checkFields(path string, raw map[string]fieldVal, params []byte) {
	c.t.Helper()
	got := map[string]fieldVal{}
	for k, v := range raw {
		got[normName(k)] = v
	}
	keys := c.orderedKeys(path)
	if len(keys) == 0 {
		keys = c.keys(path)
	}
	unknown := false
	for _, k := range keys {
		if _, ok := got[normName(k)]; !ok {
			unknown = true
		}
	}
	if unknown {
		var cat strings.Builder
		for _, k := range keys {
			v, _ := lookup(c.root(), path+"."+k)
			s, ok := v.(string)
			if !ok {
				c.errorf("%s.%s: no decoder names this field and it is not an octet string", path, k)
				c.consume(path + "." + k)
				return
			}
			cat.WriteString(strings.ToLower(s))
		}
		c.consume(path)
		c.check(cat.String() == hex.EncodeToString(params), "%s: fields %v do not lay out the parameters %x", path, keys, params)
		return
	}
	for _, k := range keys {
		p := path + "." + k
		want := got[normName(k)]
		switch v := c.value(p).(type) {
		case float64:
			c.check(want.isNum && want.num == uint64(v), "%s = %v; decoded %v", p, v, describe(want))
		case bool:
			c.check(want.isNum && (want.num != 0) == v, "%s = %v; decoded %v", p, v, describe(want))
		case string:
			b, err := hex.DecodeString(v)
			if err != nil && len(v)%2 == 1 {
				b, err = hex.DecodeString("0" + v)
			}
			if err != nil {
				c.errorf("%s: %q is not hex", p, v)
				continue
			}
			if want.isNum {
				n, err := strconv.ParseUint(v, 16, 64)
				c.check(err == nil && n == want.num, "%s = %s; decoded %#x", p, v, want.num)
			} else {
				c.check(string(b) == string(want.bytes), "%s = %s; decoded %x", p, v, want.bytes)
			}
		default:
			c.errorf("%s: unsupported JSON type %T", p, v)
		}
	}
}

func describe(v fieldVal) string {
	if v.isNum {
		return "0x" + strconv.FormatUint(v.num, 16)
	}
	return hex.EncodeToString(v.bytes)
}
