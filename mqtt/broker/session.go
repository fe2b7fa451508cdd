package broker

import (
	"sync"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// message is one application message as routed: immutable once built and
// shared by every subscriber's queue.
type message struct {
	topic   []byte
	payload []byte
	props   mqtt.Properties // without Topic Alias, Subscription Identifiers and Message Expiry
	qos     uint8
	retain  bool
	expires int64 // unix nanoseconds; 0: never
	from    *session
	size    int
}

// newMessage copies p into a message that aliases nothing.
func newMessage(p *mqtt.Publish, from *session, now time.Time) *message {
	buf := make([]byte, len(p.Topic)+len(p.Payload))
	n := copy(buf, p.Topic)
	copy(buf[n:], p.Payload)
	m := &message{
		topic:   buf[:n:n],
		payload: buf[n:],
		qos:     p.QoS,
		retain:  p.Retain,
		from:    from,
		size:    len(buf) + 64,
	}
	if p.Version == mqtt.V5 && !p.Props.Empty() {
		if p.Props.Present.Has(mqtt.PropMessageExpiry) {
			m.expires = now.Add(time.Duration(p.Props.MessageExpiry) * time.Second).UnixNano()
		}
		m.props = p.Props.Clone()
		m.props.Present = m.props.Present.Without(mqtt.PropTopicAlias).Without(mqtt.PropMessageExpiry)
		m.props.TopicAlias, m.props.MessageExpiry = 0, 0
		m.props.SubscriptionIDs = nil
		m.props.ResetOrder()
		for _, u := range m.props.User {
			m.size += len(u.Key) + len(u.Value)
		}
		m.size += len(m.props.ContentType) + len(m.props.ResponseTopic) + len(m.props.CorrelationData)
	}
	return m
}

// expired reports whether m's Message Expiry Interval has passed at now.
func (m *message) expired(now int64) bool { return m.expires != 0 && now >= m.expires }

// outMsg is one message on its way to one session.
type outMsg struct {
	m      *message
	qos    uint8
	retain bool
	subIDs []uint32
	id     mqtt.PacketID
	pubrel bool   // QoS 2: PUBREC received, PUBREL sent
	key    uint64 // store record sequence; 0: not stored
}

// session is the state of one client identifier (MQTT 5.0 §4.1): its
// subscriptions (guarded by Broker.mu) and its message state (guarded by
// mu). It outlives connections when its expiry interval is non-zero.
type session struct {
	b   *Broker
	id  string
	seq uint64

	// Guarded by Broker.mu.
	subs      map[string]*subscription
	expTimer  *time.Timer
	willTimer *time.Timer
	gone      bool // removed from the broker

	// Guarded by mu.
	mu          sync.Mutex
	conn        *conn
	expiry      uint32 // seconds; 0: ends with the connection
	q           []outMsg
	qh          int
	qbytes      int
	inflight    []*outMsg
	nextID      mqtt.PacketID
	inQoS2      map[mqtt.PacketID]struct{}
	dropsQoS0   uint64
	dropsOldest uint64
	storeSeq    uint64
}

func (s *session) qlen() int { return len(s.q) - s.qh }

func (s *session) front() *outMsg { return &s.q[s.qh] }

func (s *session) popFront() outMsg {
	o := s.q[s.qh]
	s.q[s.qh] = outMsg{}
	s.qh++
	s.qbytes -= o.m.size
	if s.qh == len(s.q) {
		s.q, s.qh = s.q[:0], 0
		if cap(s.q) > 4096 {
			s.q = nil
		}
	} else if s.qh >= 256 && s.qh*2 >= len(s.q) {
		n := copy(s.q, s.q[s.qh:])
		clear(s.q[n:])
		s.q, s.qh = s.q[:n], 0
	}
	return o
}

// removeAt removes the queued message at index i (relative to qh).
func (s *session) removeAt(i int) outMsg {
	j := s.qh + i
	o := s.q[j]
	copy(s.q[j:], s.q[j+1:])
	s.q[len(s.q)-1] = outMsg{}
	s.q = s.q[:len(s.q)-1]
	s.qbytes -= o.m.size
	return o
}

// allocID returns a packet identifier not used by an in-flight message.
func (s *session) allocID() mqtt.PacketID {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		free := true
		for _, o := range s.inflight {
			if o.id == s.nextID {
				free = false
				break
			}
		}
		if free {
			return s.nextID
		}
	}
}

// findInflight returns the index of the in-flight message with id, or -1.
func (s *session) findInflight(id mqtt.PacketID) int {
	for i, o := range s.inflight {
		if o.id == id {
			return i
		}
	}
	return -1
}

// subscription is one topic filter of one session.
type subscription struct {
	s       *session
	filter  string // as subscribed, "$share/g/f" included
	group   string // share name; "" when not shared
	qos     uint8
	noLocal bool
	rap     bool
	rh      uint8
	id      uint32
	ent     *entry // trie value (non-shared)
}

// entry is a value of the subscription trie: one subscription or one
// shared-subscription group.
type entry struct {
	sub *subscription
	grp *shareGroup
}

// shareGroup is the members of one "$share/{name}/{filter}".
type shareGroup struct {
	key     string
	members []*subscription
	next    uint32
	ent     *entry
}
