package prov

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// TestPBADVSamples checks the PB-ADV framing of §8.7.1-§8.7.5.
func TestPBADVSamples(t *testing.T) {
	uuid := [16]byte(unhex(t, sampleUUID))
	check := func(what string, got []byte, want string) {
		t.Helper()
		if hex.EncodeToString(got) != want {
			t.Errorf("%s = %x; want %s", what, got, want)
		}
	}
	check("link open", AppendLinkOpen(nil, sampleLinkID, &uuid), "23af5850000370cf7c9732a345b691494810d2e9cbf4")
	check("link ack", AppendLinkAck(nil, sampleLinkID), "23af58500007")
	for _, c := range []struct {
		txn       uint8
		pdu, want string
		ack       string
	}{
		{0x00, "0000", "23af585000000002140000", "23af58500001"},
		{0x80, "010100010000000000000000", "23af58508000000cd6010100010000000000000000", "23af58508001"},
		{0x01, "020000000000", "23af58500100000664020000000000", "23af58500101"},
	} {
		got, err := AppendSegment(nil, sampleLinkID, c.txn, unhex(t, c.pdu), 0)
		if err != nil {
			t.Fatal(err)
		}
		check("transaction start", got, c.want)
		check("transaction ack", AppendAck(nil, sampleLinkID, c.txn), c.ack)
	}
}

func TestPBADVRoundTrip(t *testing.T) {
	for _, fx := range pbadvFixtures {
		var p PBADV
		n, err := p.Decode(fx.wire)
		if err != nil || n != len(fx.wire) {
			t.Errorf("%s: %d %v", fx.name, n, err)
			continue
		}
		out, err := p.AppendBinary(nil)
		if err != nil || !bytes.Equal(out, fx.wire) || p.EncodedLen() != len(out) {
			t.Errorf("%s: %x %v", fx.name, out, err)
		}
		q := p.Clone()
		if q.LinkID != sampleLinkID || !bytes.Equal(q.Data, p.Data) {
			t.Errorf("%s: Clone", fx.name)
		}
	}
	var p PBADV
	p.Decode(pbadvFixtures[0].wire)
	if p.GPCF != GPCFBearerControl || p.Opcode != LinkOpen || hex.EncodeToString(p.DeviceUUID[:]) != sampleUUID {
		t.Errorf("link open fields %+v", p)
	}
	p.Decode(mustHex("23af58500100000664020000000000"))
	if p.GPCF != GPCFTransactionStart || p.TransactionNumber != 1 || p.TotalLength != 6 || p.FCS != 0x64 || p.SegN != 0 {
		t.Errorf("start fields %+v", p)
	}
}

func TestSegmentation(t *testing.T) {
	for _, n := range []int{1, 20, 21, 43, 44, 65, 66, MaxTransactionLen} {
		pdu := make([]byte, n)
		for i := range pdu {
			pdu[i] = byte(i)
		}
		segs := Segments(n)
		if want := 1 + (n+2)/23; n > 20 && segs != 1+(n-20+22)/23 || n <= 20 && segs != 1 {
			t.Fatalf("Segments(%d) = %d (%d)", n, segs, want)
		}
		var got []byte
		for i := 0; i < segs; i++ {
			b, err := AppendSegment(nil, 7, 3, pdu, i)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > MaxPBADVLen {
				t.Fatalf("n %d segment %d: %d octets", n, i, len(b))
			}
			var p PBADV
			if _, err := p.Decode(b); err != nil {
				t.Fatalf("n %d segment %d: %v", n, i, err)
			}
			got = append(got, p.Data...)
		}
		if !bytes.Equal(got, pdu) {
			t.Fatalf("n %d: reassembled differently", n)
		}
	}
	if Segments(0) != 0 || Segments(MaxTransactionLen+1) != 0 {
		t.Error("Segments out of range")
	}
}

// wire moves PB-ADV payloads between two links and drops every dropEvery-th
// one (0: none).
type wire struct {
	dropEvery int
	count     int
	dropped   int
	// lossPct, when set, drops payloads at random (seeded by rng) instead.
	lossPct int
	rng     *testRand
}

func (w *wire) pass() bool {
	w.count++
	drop := w.dropEvery > 0 && w.count%w.dropEvery == 0
	if w.lossPct > 0 {
		var b [1]byte
		w.rng.Read(b[:])
		drop = int(b[0])*100 < w.lossPct*256
	}
	if drop {
		w.dropped++
		return false
	}
	return true
}

// pump sends everything due on from to to and returns the PDUs to completes.
func (w *wire) pump(t testing.TB, now time.Time, from, to *Link) [][]byte {
	t.Helper()
	var got [][]byte
	var buf [MaxPBADVLen]byte
	for i := 0; i < 200; i++ {
		b, ok := from.Transmit(now, buf[:0])
		if !ok {
			return got
		}
		if len(b) > MaxPBADVLen {
			t.Fatalf("payload of %d octets", len(b))
		}
		if !w.pass() {
			continue
		}
		pdu, err := to.Receive(now, b)
		if err != nil {
			t.Fatalf("receive %x: %v", b, err)
		}
		if pdu != nil {
			got = append(got, append([]byte(nil), pdu...))
		}
	}
	t.Fatal("link transmits without end")
	return nil
}

func TestLinkTransfer(t *testing.T) {
	for _, drop := range []int{0, 3, 4, 5, 7} {
		uuid := [16]byte(unhex(t, sampleUUID))
		pl, _ := NewProvisionerLink(LinkConfig{}, sampleLinkID, uuid)
		dl, _ := NewDeviceLink(LinkConfig{}, uuid)
		now := time.Unix(0, 0)
		if err := pl.Open(now); err != nil {
			t.Fatal(err)
		}
		if err := pl.Open(now); !errors.Is(err, ErrLinkState) {
			t.Fatal("opened twice")
		}
		w := &wire{dropEvery: drop}
		big := bytes.Repeat([]byte{0x03, 0xaa, 0x55}, 22)[:65]
		msgs := [][]byte{{0x00, 0x05}, big, {0x04}}
		var toDev, toProv [][]byte
		sent := 0
		for step := 0; step < 10000 && (len(toDev) < len(msgs) || len(toProv) < len(msgs)); step++ {
			if pl.State() == LinkEstablished && sent < len(msgs) && pl.Pending() == 0 {
				if err := pl.Send(now, msgs[sent]); err != nil {
					t.Fatal(err)
				}
				if err := dl.Send(now, msgs[sent]); err != nil {
					t.Fatal(err)
				}
				sent++
			}
			toDev = append(toDev, w.pump(t, now, pl, dl)...)
			toProv = append(toProv, w.pump(t, now, dl, pl)...)
			now = now.Add(20 * time.Millisecond)
		}
		if len(toDev) != len(msgs) || len(toProv) != len(msgs) {
			t.Fatalf("drop %d: delivered %d/%d of %d", drop, len(toDev), len(toProv), len(msgs))
		}
		for i := range msgs {
			if !bytes.Equal(toDev[i], msgs[i]) || !bytes.Equal(toProv[i], msgs[i]) {
				t.Fatalf("drop %d: message %d differs", drop, i)
			}
		}
		if drop > 0 && w.dropped == 0 {
			t.Fatalf("drop %d: nothing dropped", drop)
		}
		ps, ds := pl.Stats(), dl.Stats()
		if ps.Sent+ds.Sent != uint64(w.count) || ps.Received+ds.Received != uint64(w.count-w.dropped) ||
			ps.Delivered != uint64(len(msgs)) || ds.Delivered != uint64(len(msgs)) || ps.Malformed+ds.Malformed+ps.FCSErrors+ds.FCSErrors != 0 {
			t.Fatalf("drop %d: stats %+v %+v (wire %d sent, %d dropped)", drop, ps, ds, w.count, w.dropped)
		}
		if (drop > 0) != (ps.Retransmissions+ds.Retransmissions > 0) {
			t.Fatalf("drop %d: %d+%d retransmission rounds", drop, ps.Retransmissions, ds.Retransmissions)
		}
		pl.Close(now, CloseSuccess)
		if pl.State() != LinkClosing {
			t.Fatalf("state %v", pl.State())
		}
		w.dropEvery = 0
		w.pump(t, now, pl, dl)
		if pl.State() != LinkClosed || dl.State() != LinkClosed || dl.CloseReason() != CloseSuccess {
			t.Fatalf("after close: %v %v %v", pl.State(), dl.State(), dl.CloseReason())
		}
	}
}

func TestLinkTimeouts(t *testing.T) {
	uuid := [16]byte{1}
	t0 := time.Unix(0, 0)
	// No device answers: Link Open is retried, then the link gives up.
	pl, _ := NewProvisionerLink(LinkConfig{LinkOpenTimeout: 2 * time.Second, RetransmitInterval: 100 * time.Millisecond}, 9, uuid)
	pl.Open(t0)
	opens := 0
	for now := t0; now.Before(t0.Add(3 * time.Second)); now = now.Add(10 * time.Millisecond) {
		if _, ok := pl.Transmit(now, nil); ok {
			opens++
		}
	}
	if pl.State() != LinkClosed || pl.CloseReason() != CloseTimeout || opens < 15 || opens > 25 {
		t.Fatalf("state %v reason %v opens %d", pl.State(), pl.CloseReason(), opens)
	}
	// An unacknowledged transaction closes the link with reason Timeout.
	pl, _ = NewProvisionerLink(LinkConfig{TransactionTimeout: time.Second}, 9, uuid)
	dl, _ := NewDeviceLink(LinkConfig{}, uuid)
	pl.Open(t0)
	w := &wire{}
	w.pump(t, t0, pl, dl)
	w.pump(t, t0, dl, pl)
	if pl.State() != LinkEstablished || dl.State() != LinkEstablished {
		t.Fatalf("not open: %v %v", pl.State(), dl.State())
	}
	if err := pl.Send(t0, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if d, ok := pl.Deadline(); !ok || d.After(t0) {
		t.Fatalf("deadline %v after now, %v, with a segment due", d.Sub(t0), ok)
	}
	now := t0
	for ; pl.State() == LinkEstablished && now.Before(t0.Add(5*time.Second)); now = now.Add(50 * time.Millisecond) {
		pl.Transmit(now, nil) // never delivered
	}
	if pl.State() != LinkClosing || pl.CloseReason() != CloseTimeout || now.Sub(t0) < time.Second {
		t.Fatalf("state %v reason %v after %v", pl.State(), pl.CloseReason(), now.Sub(t0))
	}
	w.pump(t, now, pl, dl)
	if dl.State() != LinkClosed || dl.CloseReason() != CloseTimeout {
		t.Fatalf("device %v %v", dl.State(), dl.CloseReason())
	}
	// Idle timeout on the device.
	dl, _ = NewDeviceLink(LinkConfig{IdleTimeout: time.Second}, uuid)
	dl.Receive(t0, AppendLinkOpen(nil, 5, &uuid))
	dl.Tick(t0.Add(999 * time.Millisecond))
	if dl.State() != LinkEstablished {
		t.Fatal("closed early")
	}
	dl.Tick(t0.Add(time.Second))
	if dl.State() != LinkClosing {
		t.Fatalf("idle: %v", dl.State())
	}
}

func TestLinkRules(t *testing.T) {
	uuid := [16]byte{1}
	t0 := time.Unix(0, 0)
	dl, _ := NewDeviceLink(LinkConfig{MaxPDULen: 30, QueueLen: 1}, uuid)
	if err := dl.Send(t0, []byte{0}); !errors.Is(err, ErrLinkState) {
		t.Fatalf("send before open: %v", err)
	}
	other := [16]byte{2}
	dl.Receive(t0, AppendLinkOpen(nil, 5, &other))
	if dl.State() != LinkIdle {
		t.Fatal("opened for another UUID")
	}
	dl.Receive(t0, AppendLinkOpen(nil, 5, &uuid))
	if dl.State() != LinkEstablished || dl.ID() != 5 {
		t.Fatal("not opened")
	}
	for i := 0; i < linkAckRepeat; i++ {
		b, ok := dl.Transmit(t0, nil)
		if !ok || !bytes.Equal(b, AppendLinkAck(nil, 5)) {
			t.Fatalf("link ack %d: %x", i, b)
		}
	}
	// A repeated Link Open is answered again; one for another link is not.
	dl.Receive(t0, AppendLinkOpen(nil, 6, &uuid))
	if _, ok := dl.Transmit(t0, nil); ok {
		t.Fatal("answered a second link")
	}
	dl.Receive(t0, AppendLinkOpen(nil, 5, &uuid))
	for i := 0; i < linkAckRepeat; i++ {
		if _, ok := dl.Transmit(t0, nil); !ok {
			t.Fatal("repeated Link Open not answered")
		}
	}
	if err := dl.Send(t0, make([]byte, 31)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	dl.Send(t0, []byte{1})
	if err := dl.Send(t0, []byte{2}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("queue: %v", err)
	}
	// A Transaction Start over MaxPDULen is refused.
	big := make([]byte, 40)
	seg, _ := AppendSegment(nil, 5, 0, big, 0)
	if _, err := dl.Receive(t0, seg); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize start: %v", err)
	}
	// A bad FCS is reported and not acknowledged.
	seg, _ = AppendSegment(nil, 5, 0, []byte{0, 0}, 0)
	seg[8] ^= 0xff
	if _, err := dl.Receive(t0, seg); !errors.Is(err, ErrFCS) {
		t.Fatalf("bad FCS: %v", err)
	}
	// The right one completes, and its repetition is acknowledged again.
	seg, _ = AppendSegment(nil, 5, 0, []byte{0, 0}, 0)
	if pdu, err := dl.Receive(t0, seg); err != nil || !bytes.Equal(pdu, []byte{0, 0}) {
		t.Fatalf("%x %v", pdu, err)
	}
	for i := 0; i < 2; i++ {
		ack := false
		for b, ok := dl.Transmit(t0, nil); ok; b, ok = dl.Transmit(t0, nil) {
			ack = ack || bytes.Equal(b, AppendAck(nil, 5, 0))
		}
		if !ack {
			t.Fatalf("round %d: no ack", i)
		}
		if pdu, _ := dl.Receive(t0, seg); pdu != nil {
			t.Fatal("duplicate delivered")
		}
	}
	// Other links and our own transaction range are ignored.
	seg, _ = AppendSegment(nil, 6, 1, []byte{0}, 0)
	if pdu, err := dl.Receive(t0, seg); pdu != nil || err != nil {
		t.Fatal("other link")
	}
	seg, _ = AppendSegment(nil, 5, 0x80, []byte{0}, 0)
	if pdu, err := dl.Receive(t0, seg); pdu != nil || err != nil {
		t.Fatal("own range")
	}
	if _, err := NewDeviceLink(LinkConfig{MaxPDULen: MaxTransactionLen + 1}, uuid); err == nil {
		t.Fatal("MaxPDULen over the PB-ADV limit accepted")
	}
	if _, err := NewDeviceLink(LinkConfig{CloseCount: -1}, uuid); err == nil {
		t.Fatal("negative CloseCount accepted")
	}
}
