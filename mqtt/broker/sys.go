package broker

import (
	"context"
	"strconv"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// sysLoop publishes $SYS/broker/... statistics as retained messages every
// Config.SysInterval.
func (b *Broker) sysLoop() {
	defer b.wg.Done()
	t := time.NewTicker(b.cfg.SysInterval)
	defer t.Stop()
	b.publishSys()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.publishSys()
		}
	}
}

// publishSys publishes one round of $SYS topics.
func (b *Broker) publishSys() {
	st := b.Stats()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	vals := [...]struct{ topic, val string }{
		{"$SYS/broker/version", "edgekit mqtt/broker"},
		{"$SYS/broker/uptime", i(int64(b.cfg.Now().Sub(b.started) / time.Second))},
		{"$SYS/broker/clients/connected", i(st.Connections)},
		{"$SYS/broker/clients/total", i(int64(st.Sessions))},
		{"$SYS/broker/clients/connections/total", u(st.ConnectionsTotal)},
		{"$SYS/broker/subscriptions/count", i(int64(st.Subscriptions))},
		{"$SYS/broker/retained messages/count", i(int64(st.Retained))},
		{"$SYS/broker/messages/received", u(st.MessagesReceived)},
		{"$SYS/broker/messages/sent", u(st.MessagesSent)},
		{"$SYS/broker/messages/dropped", u(st.DroppedQoS0 + st.DroppedOldest + st.DroppedExpired + st.DroppedTooLarge)},
		{"$SYS/broker/bytes/received", u(st.BytesReceived)},
		{"$SYS/broker/bytes/sent", u(st.BytesSent)},
	}
	ctx := context.Background()
	for _, v := range vals {
		b.Publish(ctx, &mqtt.Publish{Topic: []byte(v.topic), Payload: []byte(v.val), Retain: true})
	}
}
