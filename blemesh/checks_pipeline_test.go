//go:build !tinygo

package blemesh_test

import (
	"bytes"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/transport"
)

func init() {
	// The whole receive and answer path of a node: msg-06's two network
	// PDUs go through the network layer, the replay list, reassembly,
	// device-key decryption and the Configuration Server; its Config AppKey
	// Status, sealed with the SEQ and TTL msg-16 uses, is msg-16.
	registerBehaviour("config_server_msg06_to_msg16", []string{"msg-06", "msg-16"}, func(sc *suiteCtx) {
		c6 := sc.Sample("msg-06")
		keys := meshKeys(c6)
		iv := uint32(c6.uint("inputs.iv_index"))
		devKey := transport.NewDevKey(c6.key16("inputs.dev_key"))

		srv := &access.ConfigServer{NetKeys: []access.NetKeyEntry{{Index: 0x456}}}
		cache := network.NewCache(network.CacheConfig{})
		rpl := transport.NewReplayList(transport.ReplayConfig{})
		r := transport.NewReassembler(transport.ReassemblyConfig{Replay: rpl})
		var msg transport.Reassembled
		var ack transport.AckOut
		var done bool
		for i := 0; i < c6.length("expected.network_pdus"); i++ {
			pdu, _, _ := networkPDU(sc, "msg-06", i)
			var h network.Header
			tp, err := keys.Open(nil, &h, pdu, iv)
			if err != nil {
				sc.Fatalf("segment %d: %v", i, err)
			}
			sc.Check(cache.Add(h.IVIndex, h.SRC, h.SEQ), "segment %d already cached", i)
			var lp transport.LowerPDU
			if _, err := lp.Decode(tp, h.CTL); err != nil {
				sc.Fatalf("segment %d: %v", i, err)
			}
			fl, err := r.Receive(&transport.RxInfo{Now: at(10 * i), SRC: h.SRC, DST: h.DST, IVIndex: h.IVIndex, SEQ: h.SEQ, TTL: h.TTL}, &lp, &msg, &ack)
			if err != nil {
				sc.Fatalf("segment %d: %v", i, err)
			}
			done = fl&transport.Complete != 0
		}
		if !done {
			sc.Fatalf("msg-06 not reassembled")
		}
		sc.Check(ack.Ack == transport.SegmentAck{SeqZero: 0x09ab, BlockAck: 3} && ack.From == 0x1201 && ack.To == 0x0003, "ack %+v", ack)
		payload, err := devKey.Open(nil, &transport.AccessMeta{SEQ: uint32(msg.SeqAuth), SRC: msg.SRC, DST: msg.DST, IVIndex: uint32(msg.SeqAuth >> 24)}, msg.PDU)
		if err != nil {
			sc.Fatalf("device key: %v", err)
		}
		var p access.Payload
		if _, err := p.Decode(payload); err != nil {
			sc.Fatalf("access: %v", err)
		}
		st, params, ok, err := srv.Handle(p.Opcode, p.Params, nil)
		sc.Check(ok && err == nil && st == access.OpAppKeyStatus, "Config Server: %v %v %v", st, ok, err)
		sc.Check(len(srv.AppKeys) == 1 && srv.AppKeys[0].Index == 0x123, "AppKey not stored: %+v", srv.AppKeys)
		answer, _ := (&access.Payload{Opcode: st, Params: params}).AppendBinary(nil)

		c16 := sc.Sample("msg-16")
		sc.Check(bytes.Equal(answer, c16.hex("inputs.access.payload")), "answer %x; msg-16 payload", answer)
		_, _, h16 := networkPDU(sc, "msg-16", 0)
		up, err := devKey.Seal(nil, &transport.AccessMeta{SEQ: h16.SEQ, SRC: 0x1201, DST: msg.SRC, IVIndex: iv}, answer)
		if err != nil {
			sc.Fatalf("%v", err)
		}
		lower, _ := (&transport.LowerPDU{Payload: up}).AppendBinary(nil)
		out, err := keys.Seal(nil, &network.Header{IVIndex: iv, TTL: h16.TTL, SEQ: h16.SEQ, SRC: 0x1201, DST: msg.SRC}, lower)
		want, _, _ := networkPDU(sc, "msg-16", 0)
		sc.Check(err == nil && bytes.Equal(out, want), "answer PDU %x; msg-16 %x", out, want)
	})
}
