package broker

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/edgekit/edgekit/internal/sys"
	"github.com/edgekit/edgekit/mqtt"
)

// EventLoopMode selects how connections accepted by Serve are read.
type EventLoopMode uint8

const (
	// EventLoopAuto uses the event loop where the platform has one
	// (Linux epoll) and goroutines elsewhere.
	EventLoopAuto EventLoopMode = iota
	// EventLoopOff reads every connection with its own goroutine.
	EventLoopOff
	// EventLoopRequire makes New fail where there is no event loop.
	EventLoopRequire
)

// eventLoop reads idle-heavy connections without a goroutine or a read
// buffer per connection: after CONNECT, a connection's descriptor is
// registered with epoll (one-shot); a poller goroutine hands ready
// connections to a few workers, which read into a worker-owned buffer,
// handle every complete packet and keep only the bytes of an incomplete
// one. Writes still go through net.Conn on a writer goroutine that runs
// only while there is something to write.
type eventLoop struct {
	b    *Broker
	ep   *sys.Epoll
	work chan *conn

	mu    sync.Mutex
	conns []*conn // by key
	free  []uint32
	n     int
}

type evWorker struct {
	d   mqtt.Decoded
	buf []byte
}

// evBufSize is a worker's read buffer.
const evBufSize = 16 << 10

// newEventLoop starts the poller and the workers.
func newEventLoop(b *Broker) (*eventLoop, error) {
	ep, err := sys.NewEpoll(256)
	if err != nil {
		return nil, err
	}
	el := &eventLoop{b: b, ep: ep, work: make(chan *conn, 4096)}
	workers := max(runtime.GOMAXPROCS(0), 2)
	b.wg.Add(1 + workers)
	go el.poll()
	for range workers {
		go el.worker()
	}
	return el, nil
}

// eventLoop returns the broker's event loop, starting it on first use, or
// nil when connections are read by goroutines.
func (b *Broker) eventLoop() *eventLoop {
	if b.cfg.EventLoop == EventLoopOff {
		return nil
	}
	b.evOnce.Do(func() {
		el, err := newEventLoop(b)
		if err != nil {
			b.log.Debug("mqtt broker: no event loop", "err", err)
			return
		}
		b.ev.Store(el)
	})
	return b.ev.Load()
}

// rawConn is what a connection needs for the event loop.
type rawConn interface {
	SyscallConn() (syscall.RawConn, error)
	CloseRead() error
}

// handoff registers c with the event loop; false leaves it with its
// goroutine.
func (el *eventLoop) handoff(c *conn) bool {
	rc, ok := c.nc.(rawConn)
	if !ok {
		return false
	}
	raw, err := rc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	if raw.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return false
	}
	c.nc.SetReadDeadline(time.Time{})
	c.rbuf = nil
	c.fd = fd
	c.lastRead.Store(time.Now().UnixNano())
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.killed {
		return false
	}
	c.ev = true
	// Everything the worker reads is written before el.mu is released:
	// the poller takes el.mu to find c, which orders the two.
	el.mu.Lock()
	if n := len(el.free); n > 0 {
		c.key = el.free[n-1]
		el.free = el.free[:n-1]
		el.conns[c.key] = c
	} else {
		c.key = uint32(len(el.conns))
		el.conns = append(el.conns, c)
	}
	el.n++
	key := c.key
	el.mu.Unlock()
	el.b.wg.Add(1)
	if err := el.ep.Add(fd, key); err != nil {
		c.ev = false
		el.release(c)
		el.b.wg.Done()
		return false
	}
	return true
}

// release frees c's key.
func (el *eventLoop) release(c *conn) {
	el.mu.Lock()
	el.conns[c.key] = nil
	el.free = append(el.free, c.key)
	el.n--
	el.mu.Unlock()
}

// kill ends c from outside its reader: a goroutine-mode connection is
// closed, an event-mode one shut down so that its worker sees the end of
// stream and finishes it (only the worker closes the descriptor it reads).
func (c *conn) kill() {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.killed = true
	if c.ev {
		if rc, ok := c.nc.(rawConn); ok {
			rc.CloseRead()
			if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			return
		}
	}
	c.nc.Close()
}

// poll waits for ready connections and checks keep-alives, until the
// broker is closed and no connection is left.
func (el *eventLoop) poll() {
	b := el.b
	defer b.wg.Done()
	defer close(el.work)
	defer el.ep.Close()
	var evs []sys.EpollReady
	lastSweep := time.Now()
	for {
		var err error
		evs, err = el.ep.Wait(evs[:0], 100)
		if err != nil {
			b.log.Error("mqtt broker: epoll", "err", err)
			time.Sleep(10 * time.Millisecond)
		}
		for _, e := range evs {
			el.mu.Lock()
			var c *conn
			if int(e.Key) < len(el.conns) {
				c = el.conns[e.Key]
			}
			el.mu.Unlock()
			if c != nil {
				el.work <- c
			}
		}
		if now := time.Now(); now.Sub(lastSweep) >= 250*time.Millisecond {
			lastSweep = now
			el.sweep(now)
		}
		if b.isClosed() {
			el.mu.Lock()
			n := el.n
			el.mu.Unlock()
			if n == 0 {
				return
			}
		}
	}
}

// sweep disconnects connections silent for 1.5 times their keep-alive.
func (el *eventLoop) sweep(now time.Time) {
	el.mu.Lock()
	var late []*conn
	for _, c := range el.conns {
		if c != nil && c.ka > 0 && now.UnixNano()-c.lastRead.Load() > int64(c.ka) && !c.kaFired.Load() {
			c.kaFired.Store(true)
			late = append(late, c)
		}
	}
	el.mu.Unlock()
	for _, c := range late {
		go func() { // [MQTT-3.1.2-22]
			if c.version == mqtt.V5 {
				c.writeNow(&mqtt.Disconnect{Version: mqtt.V5, Code: mqtt.KeepAliveTimeout})
			}
			c.kill()
		}()
	}
}

func (el *eventLoop) worker() {
	defer el.b.wg.Done()
	w := &evWorker{buf: make([]byte, evBufSize)}
	for c := range el.work {
		el.process(c, w)
	}
}

// process reads what c has, handles every complete packet and re-arms c.
func (el *eventLoop) process(c *conn, w *evWorker) {
	// One worker at a time holds c (epoll's one-shot arming ensures it);
	// the mutex makes that ordering visible to the memory model.
	c.pmu.Lock()
	buf := w.buf
	if len(c.partial) >= len(buf) {
		buf = make([]byte, 2*len(c.partial))
	}
	n := copy(buf, c.partial)
	c.partial = nil
	for range 8 {
		if n == len(buf) { // one packet larger than the buffer
			need, err := mqtt.PacketLen(buf[:n], el.b.cfg.MaxPacketSize)
			if err != nil {
				el.end(c, c.readErr(err))
				return
			}
			nb := make([]byte, need)
			copy(nb, buf[:n])
			buf = nb
		}
		r, wouldBlock, err := sys.ReadNonblock(c.fd, buf[n:])
		if wouldBlock {
			break
		}
		if err != nil || r == 0 {
			if err == nil {
				err = io.EOF
			}
			el.end(c, err)
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		n += r
		used, pause, err := c.feed(buf[:n], &w.d)
		n = copy(buf, buf[used:n])
		if err != nil {
			el.end(c, err)
			return
		}
		if pause > 0 {
			c.partial = append([]byte(nil), buf[:n]...)
			c.pmu.Unlock()
			time.AfterFunc(pause, func() { el.rearm(c) })
			return
		}
	}
	if n > 0 {
		c.partial = append([]byte(nil), buf[:n]...)
	}
	c.pmu.Unlock()
	el.rearm(c)
}

func (el *eventLoop) rearm(c *conn) {
	if err := el.ep.Rearm(c.fd, c.key); err != nil {
		c.pmu.Lock()
		el.end(c, err)
	}
}

// end unregisters and finishes c; the worker owns it, so it may close it.
// Called with c.pmu held.
func (el *eventLoop) end(c *conn, err error) {
	defer c.pmu.Unlock()
	el.ep.Remove(c.fd)
	el.release(c)
	c.cmu.Lock()
	c.ev = false
	c.cmu.Unlock()
	if errors.Is(err, errNormal) {
		err = nil
	}
	c.end(err)
	el.b.wg.Done()
}
