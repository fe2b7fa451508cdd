package main

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// device is one device's shadow. Its fields are guarded by shadow.mu.
type device struct {
	name     string
	src      byte
	peer     netip.AddrPort // CoAP devices: where commands go
	meshAddr uint16         // mesh devices
	online   bool
	lastSeen time.Time
	lastPub  time.Time // last retained state message
	dirty    bool      // values changed since lastPub
	version  uint64
	count    uint64
	values   map[string]reading
}

// shadow keeps the device registry and publishes the retained state topics
// edge/{gateway}/{device}/$state.
type shadow struct {
	g       *Gateway
	mu      sync.Mutex
	devices map[string]*device
	scratch []byte
	topic   []byte
}

func newShadow(g *Gateway) *shadow {
	return &shadow{g: g, devices: map[string]*device{}}
}

// touch returns the device, creating it (bounded by devices.max_devices).
func (s *shadow) touch(name string, src byte, peer netip.AddrPort, at time.Time) *device {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[name]
	if d == nil {
		if len(s.devices) >= s.g.cfg.Devices.MaxDevices {
			return nil
		}
		d = &device{name: name, src: src, values: map[string]reading{}}
		if src == srcMesh {
			d.meshAddr, _ = meshAddrOf(name)
		}
		s.devices[name] = d
		s.g.log.Info("new device", "device", name, "source", srcName(src), "peer", peer)
	}
	if peer.IsValid() {
		d.peer = peer
	}
	return d
}

// record stores the readings and publishes the device's state when it came
// online or its state interval has passed.
func (s *shadow) record(d *device, rs []reading, at time.Time) {
	s.mu.Lock()
	for _, r := range rs {
		d.values[r.Quantity] = r
	}
	d.count += uint64(len(rs))
	if at.After(d.lastSeen) {
		d.lastSeen = at
	}
	d.dirty = true
	pub := !d.online || at.Sub(d.lastPub) >= s.g.cfg.Devices.StateInterval.D()
	d.online = true
	if pub {
		s.publishLocked(d, at)
	}
	s.mu.Unlock()
}

// publishLocked publishes d's retained state; s.mu is held.
func (s *shadow) publishLocked(d *device, now time.Time) {
	d.version++
	d.lastPub = now
	d.dirty = false
	s.scratch = appendStateJSON(s.scratch[:0], d)
	s.topic = append(append(append(append(s.topic[:0], "edge/"...), s.g.cfg.Gateway...), '/'), d.name...)
	s.topic = append(s.topic, "/$state"...)
	p := mqtt.Publish{Topic: s.topic, Payload: s.scratch, QoS: 1, Retain: true}
	_ = s.g.broker.Publish(context.Background(), &p)
	if s.g.up != nil {
		_ = s.g.up.Publish(s.g.runCtx, &p)
	}
	s.g.c.stateUpdates.Add(1)
}

// appendStateJSON encodes the shadow document.
func appendStateJSON(dst []byte, d *device) []byte {
	dst = append(dst, `{"device":`...)
	dst = strconv.AppendQuote(dst, d.name)
	dst = append(dst, `,"status":`...)
	if d.online {
		dst = append(dst, `"online"`...)
	} else {
		dst = append(dst, `"offline"`...)
	}
	dst = append(dst, `,"source":"`...)
	dst = append(dst, srcName(d.src)...)
	dst = append(dst, `","version":`...)
	dst = strconv.AppendUint(dst, d.version, 10)
	dst = append(dst, `,"last_seen":`...)
	dst = strconv.AppendQuote(dst, d.lastSeen.UTC().Format(time.RFC3339Nano))
	dst = append(dst, `,"readings":`...)
	dst = strconv.AppendUint(dst, d.count, 10)
	dst = append(dst, `,"values":{`...)
	for i, k := range sortedKeys(d.values) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, k)
		dst = append(dst, ':')
		r := d.values[k]
		dst = appendReadingJSON(dst, &r)
	}
	return append(dst, "}}"...)
}

func srcName(src byte) string {
	switch src {
	case srcCoAP:
		return "coap"
	case srcDTLS:
		return "coaps"
	case srcMesh:
		return "mesh"
	}
	return "unknown"
}

// run marks silent devices offline and flushes throttled state updates.
func (s *shadow) run(ctx context.Context) {
	defer s.g.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.sweep(now)
		}
	}
}

func (s *shadow) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		switch {
		case d.online && now.Sub(d.lastSeen) > s.g.cfg.Devices.OfflineAfter.D():
			d.online = false
			s.g.log.Info("device offline", "device", d.name, "last_seen", d.lastSeen)
			s.publishLocked(d, now)
		case d.dirty && now.Sub(d.lastPub) >= s.g.cfg.Devices.StateInterval.D():
			s.publishLocked(d, now)
		}
	}
}

// deviceView is what the status page shows of a device.
type deviceView struct {
	Name     string             `json:"name"`
	Source   string             `json:"source"`
	Address  string             `json:"address"`
	Online   bool               `json:"online"`
	LastSeen time.Time          `json:"last_seen"`
	Version  uint64             `json:"version"`
	Readings uint64             `json:"readings"`
	Values   map[string]float64 `json:"values"`
	Units    map[string]string  `json:"units"`
}

func (s *shadow) views() []deviceView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]deviceView, 0, len(s.devices))
	for _, k := range sortedKeys(s.devices) {
		d := s.devices[k]
		v := deviceView{Name: d.name, Source: srcName(d.src), Online: d.online, LastSeen: d.lastSeen,
			Version: d.version, Readings: d.count, Values: map[string]float64{}, Units: map[string]string{}}
		if d.peer.IsValid() {
			v.Address = d.peer.String()
		} else if d.meshAddr != 0 {
			v.Address = "0x" + strconv.FormatUint(uint64(d.meshAddr), 16)
		}
		for q, r := range d.values {
			v.Values[q] = r.Num
			if r.Unit != "" {
				v.Units[q] = r.Unit
			}
		}
		out = append(out, v)
	}
	return out
}

// lookup returns a device's command target.
func (s *shadow) lookup(name string) (src byte, peer netip.AddrPort, meshAddr uint16, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[name]
	if d == nil {
		return 0, netip.AddrPort{}, 0, false
	}
	return d.src, d.peer, d.meshAddr, true
}
