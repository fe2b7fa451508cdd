package hci_test

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"

	"github.com/edgekit/edgekit/blemesh/hci"
)

// fakeAir connects fake controllers: advertising data enabled on one is
// reported to every other controller that scans.
type fakeAir struct {
	mu    sync.Mutex
	ctrls []*fakeCtrl
}

// fakeCtrl is a scripted H:4 controller on one end of a net.Pipe: it
// answers every command with Command Complete (status from failOps, else
// 0), records the commands, and emits LE Advertising Reports.
type fakeCtrl struct {
	air      *fakeAir
	conn     net.Conn
	host     net.Conn
	addr     [6]byte
	out      chan []byte
	stop     chan struct{}
	mu       sync.Mutex
	cmds     []uint16
	params   map[uint16][]byte
	scanning bool
	advData  []byte
	failOps  map[uint16]uint8
	wg       sync.WaitGroup
}

func (a *fakeAir) newCtrl(t *testing.T, id byte) *fakeCtrl {
	host, ctrl := net.Pipe()
	c := &fakeCtrl{air: a, conn: ctrl, host: host, addr: [6]byte{id, 0, 0, 0xcc, 0xbb, 0xaa},
		out: make(chan []byte, 4096), stop: make(chan struct{}), params: map[uint16][]byte{}, failOps: map[uint16]uint8{}}
	a.mu.Lock()
	a.ctrls = append(a.ctrls, c)
	a.mu.Unlock()
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	t.Cleanup(func() {
		close(c.stop)
		ctrl.Close()
		host.Close()
		c.wg.Wait()
	})
	return c
}

func (c *fakeCtrl) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case p := <-c.out:
			if _, err := c.conn.Write(p); err != nil {
				return
			}
		case <-c.stop:
			return
		}
	}
}

func (c *fakeCtrl) emit(p []byte) {
	select {
	case c.out <- p:
	case <-c.stop:
	}
}

func (c *fakeCtrl) readLoop() {
	defer c.wg.Done()
	fr := hci.NewFramer(c.conn, 0)
	for {
		typ, body, err := fr.Next()
		if err != nil {
			return
		}
		if typ != hci.PacketCommand || len(body) < 3 {
			continue
		}
		op := binary.LittleEndian.Uint16(body)
		params := append([]byte(nil), body[3:]...)
		c.mu.Lock()
		c.cmds = append(c.cmds, op)
		c.params[op] = params
		status := c.failOps[op]
		if status == 0 {
			switch op {
			case hci.OpLESetScanEnable:
				c.scanning = params[0] == 1
			case hci.OpLESetAdvData:
				c.advData = append([]byte(nil), params[1:1+int(params[0])]...)
			}
		}
		data := c.advData
		c.mu.Unlock()
		ev, _ := hci.AppendEvent(nil, hci.EvtCommandComplete, []byte{1, byte(op), byte(op >> 8), status})
		c.emit(ev)
		if op == hci.OpLESetAdvEnable && params[0] == 1 && status == 0 {
			c.air.broadcast(c, data)
		}
	}
}

func (a *fakeAir) broadcast(from *fakeCtrl, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.ctrls {
		if c == from {
			continue
		}
		c.mu.Lock()
		scanning := c.scanning
		c.mu.Unlock()
		if scanning {
			c.report(from.addr, data, -40)
		}
	}
}

// report emits an LE Advertising Report carrying data.
func (c *fakeCtrl) report(addr [6]byte, data []byte, rssi int8) {
	p := hci.AppendAdvReport(nil, &hci.AdvReport{EventType: hci.AdvNonconnInd, Addr: addr, Data: data, RSSI: rssi})
	ev, _ := hci.AppendEvent(nil, hci.EvtLEMeta, p)
	c.emit(ev)
}

func (c *fakeCtrl) commands() []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint16(nil), c.cmds...)
}

func (c *fakeCtrl) param(op uint16) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.params[op]
}
