package bearer_test

import (
	"errors"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/bearer"
)

// echo is a station that records receptions and may schedule sends.
type echo struct {
	r     *bearer.Radio
	got   []time.Time
	tags  []byte
	due   time.Time
	has   bool
	stuck bool
}

func (e *echo) Receive(now time.Time, a *bearer.Adv) {
	e.got = append(e.got, now)
	e.tags = append(e.tags, a.Payload[0])
}

func (e *echo) Tick(now time.Time) {
	if e.stuck {
		return // deadline stays in the past
	}
	e.has = false
	_ = e.r.Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: []byte{0xee}})
}

func (e *echo) Deadline() (time.Time, bool) { return e.due, e.has }

func TestAirDelayAndOrder(t *testing.T) {
	air := bearer.NewAir(bearer.AirConfig{Delay: 5 * time.Millisecond})
	a, b := &echo{}, &echo{}
	a.r, b.r = air.Join(a), air.Join(b)
	air.Link(a.r, b.r, 0)
	t0 := air.Now()
	for i := byte(1); i <= 3; i++ {
		if err := a.r.Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: []byte{i}}); err != nil {
			t.Fatal(err)
		}
	}
	b.due, b.has = t0.Add(20*time.Millisecond), true
	if _, err := air.Run(time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if len(b.got) != 3 || b.got[0] != t0.Add(5*time.Millisecond) || string(b.tags) != "\x01\x02\x03" {
		t.Fatalf("b got %v %x", b.got, b.tags)
	}
	if len(a.got) != 1 || a.got[0] != t0.Add(25*time.Millisecond) || a.tags[0] != 0xee {
		t.Fatalf("a got %v %x (b's send at its deadline)", a.got, a.tags)
	}
	if len(a.got)+len(b.got) != int(air.Stats().Delivered) || air.Now() != t0.Add(time.Second) {
		t.Fatalf("stats %+v now %v", air.Stats(), air.Now())
	}
}

func TestAirLossDeterministic(t *testing.T) {
	run := func(seed uint64) (int, bearer.AirStats) {
		air := bearer.NewAir(bearer.AirConfig{Seed: seed, Jitter: time.Millisecond})
		a, b := &echo{}, &echo{}
		a.r, b.r = air.Join(a), air.Join(b)
		air.Link(a.r, b.r, 30)
		for i := 0; i < lossSends; i++ {
			_ = a.r.Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: []byte{byte(i)}})
		}
		_, _ = air.Run(time.Second, nil)
		return len(b.got), air.Stats()
	}
	n1, s1 := run(42)
	n2, s2 := run(42)
	n3, _ := run(43)
	if n1 != n2 || s1 != s2 {
		t.Fatalf("same seed, different outcome: %d %d", n1, n2)
	}
	if n1 < lossSends*6/10 || n1 > lossSends*8/10 || int(s1.Lost)+n1 != lossSends {
		t.Fatalf("30%% loss delivered %d (lost %d)", n1, s1.Lost)
	}
	if n1 == n3 {
		t.Logf("seeds 42 and 43 happened to deliver the same count %d", n1)
	}
}

func TestAirTopology(t *testing.T) {
	air := bearer.NewAir(bearer.AirConfig{})
	var st [4]*echo
	var rs []*bearer.Radio
	for i := range st {
		st[i] = &echo{}
		st[i].r = air.Join(st[i])
		rs = append(rs, st[i].r)
	}
	air.Chain(0, rs...)
	_ = rs[1].Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: []byte{1}})
	_, _ = air.Run(time.Second, nil)
	if len(st[0].got) != 1 || len(st[2].got) != 1 || len(st[3].got) != 0 || len(st[1].got) != 0 {
		t.Fatalf("chain neighbours: %d %d %d %d", len(st[0].got), len(st[1].got), len(st[2].got), len(st[3].got))
	}
	air.Unlink(rs[1], rs[2])
	rs[0].Muted = true
	_ = rs[1].Send(&bearer.Adv{Type: bearer.TypeMessage, Payload: []byte{2}})
	_, _ = air.Run(time.Second, nil)
	if len(st[0].got) != 1 || len(st[2].got) != 1 {
		t.Fatal("unlinked or muted radio heard a send")
	}
	if err := rs[1].Send(&bearer.Adv{Type: 0x01, Payload: []byte{1}}); !errors.Is(err, bearer.ErrType) {
		t.Fatalf("non-mesh type: %v", err)
	}
}

func TestAirStuck(t *testing.T) {
	air := bearer.NewAir(bearer.AirConfig{})
	e := &echo{stuck: true, has: true}
	e.due = air.Now()
	e.r = air.Join(e)
	if _, err := air.Run(time.Second, nil); !errors.Is(err, bearer.ErrStuck) {
		t.Fatalf("err = %v", err)
	}
}
