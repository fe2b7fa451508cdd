package broker

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
)

// Direction says which way a bridge mapping carries messages.
type Direction uint8

const (
	// Out carries local messages upstream.
	Out Direction = 1 << iota
	// In carries upstream messages to the local broker.
	In
	// Both carries messages both ways.
	Both = Out | In
)

// BridgeMapping maps topics between the local broker and an upstream
// broker, as mosquitto's "topic" bridge lines do: Filter is matched under
// LocalPrefix locally and under RemotePrefix upstream, and a message's
// topic swaps one prefix for the other.
type BridgeMapping struct {
	Filter       string // topic filter relative to the prefixes, e.g. "sensors/#"
	Direction    Direction
	QoS          uint8  // maximum QoS of the subscription on the source side
	LocalPrefix  string // e.g. "" or "site/"
	RemotePrefix string // e.g. "gw-17/"
}

// BridgeConfig configures a Bridge.
type BridgeConfig struct {
	// Name identifies the bridge; its local session is "$bridge/<Name>".
	Name string
	// Upstream configures the connection to the upstream broker (Addr,
	// TLS, Version, ClientID, SessionExpiry, credentials, backoff). Set
	// Upstream.Store to a durable store (mqtt/client/filestore) for
	// store-and-forward across restarts; the bridge always sets
	// ReturnWhenStored, so a local QoS 1/2 message is acknowledged to the
	// local broker only once the upstream store holds it. The store's
	// bound and Full policy decide what happens when the uplink stays down.
	Upstream client.Config
	// Mappings lists the topics carried; at least one.
	Mappings []BridgeMapping
	// Logger (default: the broker's).
}

// Bridge connects the broker to an upstream broker through mqtt/client:
// each mapping subscribes on its source side and republishes on the other
// with the prefixes swapped. Loops are prevented with No Local
// subscriptions on both sides (upstream needs MQTT 5 for that; with 3.1.1
// upstream, give In and Out mappings disjoint topics). A Bridge is safe for
// concurrent use; Close stops it.
type Bridge struct {
	b      *Broker
	cfg    BridgeConfig
	local  *client.Client
	remote *client.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup

	in, out, failed atomic.Uint64
}

// BridgeStats counts a bridge's messages.
type BridgeStats struct {
	Out    uint64 // local messages handed to the upstream client (stored or sent)
	In     uint64 // upstream messages published locally
	Failed uint64 // messages that could not be forwarded
}

// ErrBridgeConfig reports an invalid BridgeConfig.
var ErrBridgeConfig = errors.New("broker: invalid bridge configuration")

// NewBridge starts a bridge from b to the upstream broker of cfg. It
// returns once the local side is connected; the upstream side connects
// (and reconnects) in the background, forwarding what was stored meanwhile.
func (b *Broker) NewBridge(cfg BridgeConfig) (*Bridge, error) {
	if cfg.Name == "" || len(cfg.Mappings) == 0 {
		return nil, ErrBridgeConfig
	}
	for _, m := range cfg.Mappings {
		if m.Direction&Both == 0 || m.QoS > 2 || mqtt.CheckTopicFilter([]byte(m.LocalPrefix+m.Filter)) != nil ||
			mqtt.CheckTopicFilter([]byte(m.RemotePrefix+m.Filter)) != nil {
			return nil, ErrBridgeConfig
		}
	}
	br := &Bridge{b: b, cfg: cfg}
	up := cfg.Upstream
	up.ReturnWhenStored = true
	up.Handler = br.inbound
	if up.Logger == nil {
		up.Logger = b.log
	}
	if up.ClientID == "" {
		up.ClientID = "bridge-" + cfg.Name
	}
	remote, err := client.New(up)
	if err != nil {
		return nil, err
	}
	local, err := client.New(client.Config{
		Dialer: func(ctx context.Context) (io.ReadWriteCloser, error) {
			c, err := b.Pipe()
			return c, err
		},
		Version:       mqtt.V5,
		ClientID:      "$bridge/" + cfg.Name,
		SessionExpiry: b.cfg.MaxSessionExpiry,
		Handler:       br.outbound,
		Logger:        b.log,
		MinBackoff:    10 * time.Millisecond,
		MaxBackoff:    time.Second,
	})
	if err != nil {
		remote.Close()
		return nil, err
	}
	br.local, br.remote = local, remote
	ctx, cancel := context.WithCancel(context.Background())
	br.cancel = cancel
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if err := local.Connect(cctx); err != nil {
		br.Close()
		return nil, err
	}
	remote.Start()
	for _, m := range cfg.Mappings {
		if m.Direction&Out != 0 {
			s := mqtt.Subscription{Filter: []byte(m.LocalPrefix + m.Filter), QoS: m.QoS, NoLocal: true, RetainAsPublished: true}
			if _, err := local.Subscribe(cctx, nil, s); err != nil {
				br.Close()
				return nil, err
			}
		}
		if m.Direction&In != 0 {
			s := mqtt.Subscription{Filter: []byte(m.RemotePrefix + m.Filter), QoS: m.QoS}
			if up.Version == mqtt.V5 {
				s.NoLocal, s.RetainAsPublished = true, true
			}
			br.wg.Add(1)
			go func() { // sent once the upstream is reachable
				defer br.wg.Done()
				for ctx.Err() == nil {
					if _, err := remote.Subscribe(ctx, nil, s); err == nil {
						return
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}()
		}
	}
	return br, nil
}

// mapTopic finds the mapping for topic coming from one side (out: from
// local) and returns the topic on the other side.
func (br *Bridge) mapTopic(topic []byte, out bool) (string, uint8, bool) {
	for _, m := range br.cfg.Mappings {
		from, to := m.RemotePrefix, m.LocalPrefix
		dir := In
		if out {
			from, to, dir = m.LocalPrefix, m.RemotePrefix, Out
		}
		if m.Direction&dir == 0 || !strings.HasPrefix(string(topic), from) {
			continue
		}
		if mqtt.MatchTopic([]byte(from+m.Filter), topic) {
			return to + string(topic[len(from):]), m.QoS, true
		}
	}
	return "", 0, false
}

// forward copies p for the other side.
func forward(p *mqtt.Publish, topic string, qos uint8) *mqtt.Publish {
	q := &mqtt.Publish{Version: mqtt.V5, QoS: min(p.QoS, qos), Retain: p.Retain, Topic: []byte(topic), Payload: p.Payload}
	if p.Version == mqtt.V5 {
		q.Props = p.Props
		q.Props.Present = q.Props.Present.Without(mqtt.PropTopicAlias)
		q.Props.SubscriptionIDs = nil
		q.Props.ResetOrder()
	}
	return q
}

// outbound handles a local message: it is stored by the upstream client
// before the local broker gets its acknowledgement.
func (br *Bridge) outbound(p *mqtt.Publish) {
	topic, qos, ok := br.mapTopic(p.Topic, true)
	if !ok {
		return
	}
	q := forward(p, topic, qos)
	if br.cfg.Upstream.Version != mqtt.V5 {
		q.Version = br.cfg.Upstream.Version
		q.Props = mqtt.Properties{}
	}
	if err := br.remote.Publish(context.Background(), q); err != nil {
		br.failed.Add(1)
		br.b.log.Warn("mqtt bridge: forward upstream", "bridge", br.cfg.Name, "topic", topic, "err", err)
		return
	}
	br.out.Add(1)
}

// inbound handles an upstream message: the upstream broker gets its
// acknowledgement once the local broker accepted it.
func (br *Bridge) inbound(p *mqtt.Publish) {
	topic, qos, ok := br.mapTopic(p.Topic, false)
	if !ok {
		return
	}
	if err := br.local.Publish(context.Background(), forward(p, topic, qos)); err != nil {
		br.failed.Add(1)
		br.b.log.Warn("mqtt bridge: forward locally", "bridge", br.cfg.Name, "topic", topic, "err", err)
		return
	}
	br.in.Add(1)
}

// Stats returns the bridge's counters.
func (br *Bridge) Stats() BridgeStats {
	return BridgeStats{Out: br.out.Load(), In: br.in.Load(), Failed: br.failed.Load()}
}

// Upstream returns the upstream client's statistics (store, in-flight,
// connection state).
func (br *Bridge) Upstream() client.Stats { return br.remote.Stats() }

// Close stops the bridge. Messages stored upstream but not yet sent stay
// in the upstream store (durable with a file store); the local session
// keeps queueing for the bridge until its expiry.
func (br *Bridge) Close() error {
	br.cancel()
	err := br.local.Close()
	if e := br.remote.Close(); err == nil {
		err = e
	}
	br.wg.Wait()
	return err
}
