package prov

import (
	"errors"
	"time"

	"github.com/edgekit/edgekit/blemesh/proxy"
)

// ErrProxyType reports a proxy PDU on the Mesh Provisioning Service whose
// message type is not Provisioning PDU; the connection must be closed (Mesh
// Protocol 1.1 §7.1.3).
var ErrProxyType = errors.New("blemesh/prov: proxy PDU type is not provisioning")

// GATTConfig configures a [GATTBearer]. The zero value means the defaults.
type GATTConfig struct {
	// MTU is the connection's ATT MTU; 0 means proxy.MinATTMTU (23).
	MTU int
	// MaxPDULen bounds a received provisioning PDU and a queued one; 0 means
	// DefaultMaxPDULen.
	MaxPDULen int
	// QueueLen is how many outgoing PDUs may wait; 0 means DefaultQueueLen.
	QueueLen int
	// Timeout is the proxy SAR timeout; 0 means proxy.DefaultTimeout.
	Timeout time.Duration
}

// GATTBearer carries provisioning PDUs over PB-GATT (Mesh Protocol 1.1
// §5.2.2): each PDU travels as a proxy PDU of type Provisioning, segmented to
// the ATT MTU, written to the Mesh Provisioning Data In characteristic or
// notified from Data Out. The GATT connection itself is the link, so there
// are no transactions or acknowledgments at this layer.
//
// It owns its buffers and allocates nothing after NewGATTBearer. It is not
// safe for concurrent use.
type GATTBearer struct {
	mtu   int
	r     *proxy.Reassembler
	q     [][]byte
	qHead int
	qLen  int
	seg   proxy.Segmenter
	inSeg bool
}

// NewGATTBearer returns a PB-GATT bearer for one connection.
func NewGATTBearer(cfg GATTConfig) (*GATTBearer, error) {
	if cfg.MTU == 0 {
		cfg.MTU = proxy.MinATTMTU
	}
	if cfg.MaxPDULen == 0 {
		cfg.MaxPDULen = DefaultMaxPDULen
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	if proxy.SegmentDataLen(cfg.MTU) == 0 {
		return nil, proxy.ErrMTU
	}
	if cfg.MaxPDULen < 0 || cfg.QueueLen < 0 {
		return nil, ErrInvalidValue
	}
	r, err := proxy.NewReassembler(proxy.Config{MaxMessageSize: cfg.MaxPDULen, Timeout: cfg.Timeout})
	if err != nil {
		return nil, err
	}
	g := &GATTBearer{mtu: cfg.MTU, r: r, q: make([][]byte, cfg.QueueLen)}
	mem := make([]byte, cfg.QueueLen*cfg.MaxPDULen)
	for i := range g.q {
		g.q[i] = mem[i*cfg.MaxPDULen : i*cfg.MaxPDULen : (i+1)*cfg.MaxPDULen]
	}
	return g, nil
}

// SetMTU changes the ATT MTU (after an MTU exchange). A PDU being segmented
// keeps the old size.
func (g *GATTBearer) SetMTU(mtu int) error {
	if proxy.SegmentDataLen(mtu) == 0 {
		return proxy.ErrMTU
	}
	g.mtu = mtu
	return nil
}

// Send queues the provisioning PDU pdu (copied).
func (g *GATTBearer) Send(pdu []byte) error {
	if len(pdu) == 0 || len(pdu) > cap(g.q[0]) {
		return ErrTooLarge
	}
	if g.qLen == len(g.q) {
		return ErrQueueFull
	}
	i := (g.qHead + g.qLen) % len(g.q)
	g.q[i] = append(g.q[i][:0], pdu...)
	g.qLen++
	return nil
}

// Transmit appends the next ATT value to write (or notify) to dst and reports
// true, or returns dst and false when nothing is queued.
func (g *GATTBearer) Transmit(dst []byte) ([]byte, bool) {
	for {
		if g.inSeg {
			out, ok := g.seg.Next(dst)
			if ok {
				return out, true
			}
			g.inSeg = false
			g.qHead = (g.qHead + 1) % len(g.q)
			g.qLen--
		}
		if g.qLen == 0 {
			return dst, false
		}
		s, err := proxy.NewSegmenter(g.mtu, proxy.TypeProvisioning, g.q[g.qHead])
		if err != nil {
			return dst, false // cannot happen: the MTU was checked
		}
		g.seg, g.inSeg = s, true
	}
}

// Receive processes one ATT value written to Data In (device) or notified
// from Data Out (provisioner). When it completes a provisioning PDU it
// returns it, aliasing value or the bearer's buffer until the next call. An
// error means the connection must be closed: a proxy SAR violation or
// timeout, or a message type other than Provisioning (ErrProxyType).
func (g *GATTBearer) Receive(now time.Time, value []byte) ([]byte, error) {
	typ, msg, done, err := g.r.Feed(now, value)
	if err != nil {
		return nil, err
	}
	if !done {
		if len(value) > 0 && proxy.Type(value[0]&0x3f) != proxy.TypeProvisioning {
			g.r.Reset()
			return nil, ErrProxyType
		}
		return nil, nil
	}
	if typ != proxy.TypeProvisioning {
		return nil, ErrProxyType
	}
	return msg, nil
}

// Check returns the proxy SAR timeout error when a segmented PDU has not
// completed by now.
func (g *GATTBearer) Check(now time.Time) error { return g.r.Check(now) }
