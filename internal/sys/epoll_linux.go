package sys

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Epoll is an epoll(7) instance for readiness notification, used by the
// MQTT broker's event loop: each registered descriptor carries a 32-bit key
// and is armed one-shot for input, so one event hands it to one worker
// until EpollRearm.
type Epoll struct {
	fd     int
	events []unix.EpollEvent
}

// EpollReady is one readiness event: the key given to EpollAdd and whether
// the peer hung up or the descriptor failed.
type EpollReady struct {
	Key    uint32
	Hangup bool
}

const epollInOneShot = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// NewEpoll creates an epoll instance that returns at most maxEvents events
// per EpollWait.
func NewEpoll(maxEvents int) (*Epoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if maxEvents <= 0 {
		maxEvents = 128
	}
	return &Epoll{fd: fd, events: make([]unix.EpollEvent, maxEvents)}, nil
}

// Add registers fd for one input event carrying key.
func (e *Epoll) Add(fd int, key uint32) error {
	ev := unix.EpollEvent{Events: epollInOneShot, Fd: int32(key)}
	return unix.EpollCtl(e.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Rearm arms fd, registered with key, for one more input event.
func (e *Epoll) Rearm(fd int, key uint32) error {
	ev := unix.EpollEvent{Events: epollInOneShot, Fd: int32(key)}
	return unix.EpollCtl(e.fd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// Remove unregisters fd.
func (e *Epoll) Remove(fd int) error {
	return unix.EpollCtl(e.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait waits up to msec milliseconds (-1: forever) for events and appends
// them to dst. EINTR is reported as no events.
func (e *Epoll) Wait(dst []EpollReady, msec int) ([]EpollReady, error) {
	n, err := unix.EpollWait(e.fd, e.events, msec)
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return dst, nil
		}
		return dst, err
	}
	for _, ev := range e.events[:n] {
		dst = append(dst, EpollReady{Key: uint32(ev.Fd), Hangup: ev.Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0})
	}
	return dst, nil
}

// Close closes the epoll instance.
func (e *Epoll) Close() error { return unix.Close(e.fd) }

// ReadNonblock reads from a non-blocking descriptor once: n > 0 bytes,
// n == 0 at end of stream, or wouldBlock when nothing is available.
func ReadNonblock(fd int, p []byte) (n int, wouldBlock bool, err error) {
	for {
		n, err = unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return 0, true, nil
		}
		if n < 0 {
			n = 0
		}
		return n, false, err
	}
}
