package mqttbrokerbench

import (
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// lgConn is one load-generator connection.
type lgConn struct {
	nc  net.Conn
	fr  *mqtt.Framer
	wmu sync.Mutex
	in  mqtt.Decoded
}

func dialMQTT(addr, id string) (*lgConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c := &lgConn{nc: nc, fr: mqtt.NewFramer(nc, nc, mqtt.FramerConfig{MaxPacketSize: 1 << 20})}
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	if err := c.fr.WritePacket(&mqtt.Connect{Version: mqtt.V311, CleanStart: true, ClientID: []byte(id), KeepAlive: 300}); err != nil {
		nc.Close()
		return nil, err
	}
	t, err := c.fr.ReadInto(&c.in)
	if err != nil || t != mqtt.TypeConnack || c.in.Connack.Code != 0 {
		nc.Close()
		return nil, errors.New("connect " + id + " failed")
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *lgConn) write(p mqtt.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fr.WritePacket(p)
}

func (c *lgConn) subscribe(filter string, qos uint8) error {
	c.nc.SetDeadline(time.Now().Add(20 * time.Second))
	defer c.nc.SetDeadline(time.Time{})
	if err := c.write(&mqtt.Subscribe{Version: mqtt.V311, ID: 1, Filters: []mqtt.Subscription{{Filter: []byte(filter), QoS: qos}}}); err != nil {
		return err
	}
	t, err := c.fr.ReadInto(&c.in)
	if err != nil || t != mqtt.TypeSuback || c.in.Suback.Codes[0] != mqtt.ReasonCode(qos) {
		return errors.New("subscribe failed")
	}
	return nil
}

// result is what one run measured.
type result struct {
	sent, delivered int
	elapsed         time.Duration
	p50, p99        time.Duration
}

func (r result) rate() float64 { return float64(r.delivered) / r.elapsed.Seconds() }

// subscriber reads messages, acknowledges them per QoS, and records
// latencies until it has want messages or stop closes.
type subscriber struct {
	c      *lgConn
	lat    []time.Duration
	last   atomic.Int64
	count  atomic.Int64
	exited chan struct{}
}

func (s *subscriber) run(want int, done func()) {
	defer close(s.exited)
	s.lat = make([]time.Duration, 0, want)
	signalled := false
	for {
		t, err := s.c.fr.ReadInto(&s.c.in)
		if err != nil {
			if !signalled {
				done()
			}
			return
		}
		switch t {
		case mqtt.TypePublish:
			p := &s.c.in.Publish
			now := time.Now()
			if len(p.Payload) >= 8 {
				sent := int64(binary.BigEndian.Uint64(p.Payload))
				s.lat = append(s.lat, now.Sub(time.Unix(0, sent)))
			}
			switch p.QoS {
			case 1:
				s.c.write(&mqtt.Ack{Type: mqtt.TypePuback, ID: p.ID})
			case 2:
				s.c.write(&mqtt.Ack{Type: mqtt.TypePubrec, ID: p.ID})
			}
			s.last.Store(now.UnixNano())
			if n := s.count.Add(1); int(n) == want && !signalled {
				signalled = true
				done()
			}
		case mqtt.TypePubrel:
			s.c.write(&mqtt.Ack{Type: mqtt.TypePubcomp, ID: s.c.in.Ack.ID})
		}
	}
}

// publisher sends n messages at qos with at most window unacknowledged.
func publish(c *lgConn, topic string, qos uint8, n, window int, payload int) (int, error) {
	sem := make(chan struct{}, window)
	errc := make(chan error, 1)
	acked := make(chan struct{})
	if qos > 0 {
		go func() {
			var in mqtt.Decoded
			got := 0
			for got < n {
				t, err := c.fr.ReadInto(&in)
				if err != nil {
					errc <- err
					return
				}
				switch t {
				case mqtt.TypePuback, mqtt.TypePubcomp:
					got++
					<-sem
				case mqtt.TypePubrec:
					c.write(&mqtt.Ack{Type: mqtt.TypePubrel, ID: in.Ack.ID})
				}
			}
			close(acked)
		}()
	}
	buf := make([]byte, max(payload, 8))
	p := &mqtt.Publish{Version: mqtt.V311, QoS: qos, Topic: []byte(topic), Payload: buf}
	var id uint16
	for i := 0; i < n; i++ {
		if qos > 0 {
			select {
			case sem <- struct{}{}:
			case err := <-errc:
				return i, err
			}
			id++
			if id == 0 {
				id = 1
			}
			p.ID = mqtt.PacketID(id)
		}
		binary.BigEndian.PutUint64(buf, uint64(time.Now().UnixNano()))
		c.wmu.Lock()
		err := c.fr.WritePublish(p)
		c.wmu.Unlock()
		if err != nil {
			return i, err
		}
	}
	if qos > 0 {
		select {
		case <-acked:
		case err := <-errc:
			return n, err
		case <-time.After(60 * time.Second):
			return n, errors.New("acknowledgements timed out")
		}
	}
	return n, nil
}

// scenario runs pubs publishers (topic "lg/<i>", n messages each) against
// subsPer subscribers per topic (or, with fan > 0, one publisher and fan
// subscribers of one topic).
type scenario struct {
	addr    string
	qos     uint8
	pubs    int
	fan     int // subscribers of the single topic; 0: one per publisher
	n       int // messages per publisher
	window  int
	payload int
}

func (sc scenario) run() (result, error) {
	var subs []*subscriber
	var pubs []*lgConn
	closeAll := func() {
		for _, s := range subs {
			s.c.nc.Close()
		}
		for _, p := range pubs {
			p.nc.Close()
		}
	}
	defer closeAll()
	nsubs, want := sc.pubs, sc.n
	if sc.fan > 0 {
		nsubs = sc.fan
	}
	var wg sync.WaitGroup
	for i := range nsubs {
		c, err := dialMQTT(sc.addr, "lg-sub-"+strconv.Itoa(i))
		if err != nil {
			return result{}, err
		}
		s := &subscriber{c: c, exited: make(chan struct{})}
		subs = append(subs, s)
		topic := "lg/" + strconv.Itoa(i)
		if sc.fan > 0 {
			topic = "lg/fan"
		}
		if err := c.subscribe(topic, sc.qos); err != nil {
			return result{}, err
		}
	}
	for i := range sc.pubs {
		c, err := dialMQTT(sc.addr, "lg-pub-"+strconv.Itoa(i))
		if err != nil {
			return result{}, err
		}
		pubs = append(pubs, c)
	}
	wg.Add(len(subs))
	for _, s := range subs {
		go s.run(want, wg.Done)
	}
	start := time.Now()
	var perr atomic.Value
	var pwg sync.WaitGroup
	for i, c := range pubs {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			topic := "lg/" + strconv.Itoa(i)
			if sc.fan > 0 {
				topic = "lg/fan"
			}
			if _, err := publish(c, topic, sc.qos, sc.n, sc.window, sc.payload); err != nil {
				perr.Store(err)
			}
		}()
	}
	pwg.Wait()
	if err, _ := perr.Load().(error); err != nil {
		return result{}, err
	}
	// Wait for every delivery, or until deliveries stop (QoS 0 may drop).
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	var lastTotal int64 = -1
	for {
		select {
		case <-finished:
		case <-time.After(500 * time.Millisecond):
			var total int64
			for _, s := range subs {
				total += s.count.Load()
			}
			if total != lastTotal {
				lastTotal = total
				continue
			}
		}
		break
	}
	closeAll()
	for _, s := range subs {
		<-s.exited
	}
	var r result
	r.sent = sc.pubs * sc.n
	var end int64
	var lat []time.Duration
	for _, s := range subs {
		r.delivered += int(s.count.Load())
		end = max(end, s.last.Load())
		lat = append(lat, s.lat...)
	}
	if r.delivered == 0 {
		return r, errors.New("nothing delivered")
	}
	r.elapsed = time.Unix(0, end).Sub(start)
	slices.Sort(lat)
	r.p50 = lat[len(lat)/2]
	r.p99 = lat[len(lat)*99/100]
	return r, nil
}
