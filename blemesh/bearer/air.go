package bearer

import (
	"errors"
	"time"
)

// Station is a participant of an [Air]: a node driven by explicit calls.
type Station interface {
	// Receive delivers one AD structure heard at now. a.Payload is valid
	// only during the call.
	Receive(now time.Time, a *Adv)
	// Tick lets the station run its timers at now.
	Tick(now time.Time)
	// Deadline reports when the station next needs Tick.
	Deadline() (time.Time, bool)
}

// AirConfig configures an [Air]. The zero value is a lossless medium with a
// 1 ms propagation delay, starting at a fixed date, seeded with 1.
type AirConfig struct {
	// Start is the simulated time at creation; zero means 2024-01-01 UTC.
	Start time.Time
	// Seed seeds the deterministic random source of loss and jitter; 0 means 1.
	Seed uint64
	// Delay is the time between a Send and its reception; 0 means 1 ms.
	Delay time.Duration
	// Jitter adds a random 0..Jitter to each reception's delay.
	Jitter time.Duration
	// MaxInFlight bounds the receptions waiting to be delivered; 0 means
	// 65536. Sends beyond it are dropped and counted.
	MaxInFlight int
}

// AirStats are an Air's counters.
type AirStats struct {
	Sent      uint64 // Send calls
	Delivered uint64 // receptions delivered to a station
	Lost      uint64 // receptions dropped by a link's loss
	Overflow  uint64 // receptions dropped because MaxInFlight was reached
}

// ErrNotJoined reports a Send from a radio whose Air was discarded.
var ErrNotJoined = errors.New("blemesh/bearer: radio not attached to an air")

// Air is an in-memory advertising medium for tests and simulations: radios
// joined to it hear each other over explicit links, each with its own loss
// percentage, after a fixed delay plus jitter drawn from a seeded generator.
// Time is simulated: [Air.Run] advances the clock from event to event
// (receptions and stations' deadlines), so a scenario of minutes runs in
// milliseconds and always the same way for a given seed. It is not safe for
// concurrent use: one goroutine runs the air and every station.
type Air struct {
	cfg    AirConfig
	now    time.Time
	rng    uint64
	radios []*Radio
	queue  []reception // sorted by (at, seq)
	seq    uint64
	stats  AirStats
}

type reception struct {
	at  time.Time
	seq uint64
	to  *Radio
	typ uint8
	n   uint8
	buf [MaxPayloadLen]byte
}

// Radio is one station's attachment to an [Air]; it implements [Bearer].
type Radio struct {
	air     *Air
	st      Station
	links   []link
	id      int
	Muted   bool // a muted radio neither sends nor receives (a node switched off)
	Sent    uint64
	Heard   uint64
	lastAdv Adv
}

type link struct {
	to   *Radio
	loss int // percent
}

// NewAir returns an air with no radios.
func NewAir(cfg AirConfig) *Air {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Delay <= 0 {
		cfg.Delay = time.Millisecond
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1 << 16
	}
	return &Air{cfg: cfg, now: cfg.Start, rng: cfg.Seed}
}

// Now returns the simulated time.
func (a *Air) Now() time.Time { return a.now }

// Stats returns the counters.
func (a *Air) Stats() AirStats { return a.stats }

// Join attaches a station and returns its radio. The radio hears nobody
// until linked (see [Air.Link] and [Air.LinkAll]).
func (a *Air) Join(st Station) *Radio {
	r := &Radio{air: a, st: st, id: len(a.radios)}
	a.radios = append(a.radios, r)
	return r
}

// Attach sets the station of a radio created with Join(nil): a node needs
// its bearer before it exists.
func (r *Radio) Attach(st Station) { r.st = st }

// Link connects x and y in both directions with the given loss percentage
// (0..100), replacing an existing link between them.
func (a *Air) Link(x, y *Radio, lossPercent int) {
	x.setLink(y, lossPercent)
	y.setLink(x, lossPercent)
}

// Unlink removes the link between x and y.
func (a *Air) Unlink(x, y *Radio) {
	x.delLink(y)
	y.delLink(x)
}

// LinkAll links every pair of radios with the given loss.
func (a *Air) LinkAll(lossPercent int) {
	for i, x := range a.radios {
		for _, y := range a.radios[i+1:] {
			a.Link(x, y, lossPercent)
		}
	}
}

// Chain links the radios in a line, each to the next: a multi-hop topology.
func (a *Air) Chain(lossPercent int, rs ...*Radio) {
	for i := 0; i+1 < len(rs); i++ {
		a.Link(rs[i], rs[i+1], lossPercent)
	}
}

func (r *Radio) setLink(to *Radio, loss int) {
	if loss < 0 {
		loss = 0
	}
	if loss > 100 {
		loss = 100
	}
	for i := range r.links {
		if r.links[i].to == to {
			r.links[i].loss = loss
			return
		}
	}
	r.links = append(r.links, link{to: to, loss: loss})
}

func (r *Radio) delLink(to *Radio) {
	for i := range r.links {
		if r.links[i].to == to {
			r.links = append(r.links[:i], r.links[i+1:]...)
			return
		}
	}
}

// rand returns the next value of a splitmix64 generator.
func (a *Air) rand() uint64 {
	a.rng += 0x9e3779b97f4a7c15
	z := a.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Send transmits a to every linked radio, subject to each link's loss. It
// copies the payload; it never blocks.
func (r *Radio) Send(ad *Adv) error {
	a := r.air
	if a == nil {
		return ErrNotJoined
	}
	if !IsMeshType(ad.Type) {
		return ErrType
	}
	if len(ad.Payload) == 0 {
		return ErrEmpty
	}
	if len(ad.Payload) > MaxPayloadLen {
		return ErrLong
	}
	if r.Muted {
		return nil
	}
	a.stats.Sent++
	r.Sent++
	for _, l := range r.links {
		if l.loss > 0 && int(a.rand()%100) < l.loss {
			a.stats.Lost++
			continue
		}
		if len(a.queue) >= a.cfg.MaxInFlight {
			a.stats.Overflow++
			continue
		}
		d := a.cfg.Delay
		if a.cfg.Jitter > 0 {
			d += time.Duration(a.rand() % uint64(a.cfg.Jitter+1))
		}
		a.seq++
		rx := reception{at: a.now.Add(d), seq: a.seq, to: l.to, typ: ad.Type, n: uint8(len(ad.Payload))}
		copy(rx.buf[:], ad.Payload)
		a.insert(rx)
	}
	return nil
}

func (a *Air) insert(rx reception) {
	i := len(a.queue)
	a.queue = append(a.queue, rx)
	for i > 0 && a.queue[i-1].at.After(rx.at) {
		a.queue[i] = a.queue[i-1]
		i--
	}
	a.queue[i] = rx
}

// Step runs the next event (a reception or the earliest station deadline)
// if it is due at or before until, advancing the clock to it. It reports
// false when nothing is due by until; the clock is then left unchanged.
func (a *Air) Step(until time.Time) bool {
	next, ok := time.Time{}, false
	if len(a.queue) > 0 {
		next, ok = a.queue[0].at, true
	}
	var tick *Radio
	for _, r := range a.radios {
		if r.st == nil {
			continue
		}
		if d, has := r.st.Deadline(); has && (!ok || d.Before(next)) {
			next, ok, tick = d, true, r
		}
	}
	if !ok || next.After(until) {
		return false
	}
	if next.After(a.now) {
		a.now = next
	}
	if tick != nil {
		tick.st.Tick(a.now)
		return true
	}
	rx := a.queue[0]
	copy(a.queue, a.queue[1:])
	a.queue = a.queue[:len(a.queue)-1]
	r := rx.to
	if r.Muted || r.st == nil {
		return true
	}
	r.Heard++
	a.stats.Delivered++
	r.lastAdv = Adv{Type: rx.typ, Payload: rx.buf[:rx.n]}
	r.st.Receive(a.now, &r.lastAdv)
	r.lastAdv.Payload = nil
	return true
}

// ErrStuck reports that the stations did not let simulated time advance
// (a deadline that stays in the past after Tick).
var ErrStuck = errors.New("blemesh/bearer: simulation made no progress")

// maxStepsPerInstant bounds the events run without the clock moving.
const maxStepsPerInstant = 1 << 16

// Run runs events until done reports true (checked after every event) or
// the clock would pass now+d, then sets the clock to the end of the period
// (or the moment done became true). It reports whether done became true.
// A nil done runs the whole period.
func (a *Air) Run(d time.Duration, done func() bool) (bool, error) {
	until := a.now.Add(d)
	var same int
	last := a.now
	for {
		if done != nil && done() {
			return true, nil
		}
		if !a.Step(until) {
			a.now = until
			return false, nil
		}
		if a.now.Equal(last) {
			same++
			if same > maxStepsPerInstant {
				return false, ErrStuck
			}
		} else {
			same, last = 0, a.now
		}
	}
}
