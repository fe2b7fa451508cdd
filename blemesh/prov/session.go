package prov

import (
	"errors"
	"time"
)

// ErrLinkClosed reports that the bearer link closed before provisioning
// completed.
var ErrLinkClosed = errors.New("blemesh/prov: link closed before provisioning completed")

// DeviceSession runs the device role over PB-ADV: a [Device] behind a
// device [Link]. Feed it the payloads of received AD structures of type 0x29,
// advertise what Transmit returns, serve NextEvent (OOB values go to
// Device.InputNumber/InputString) and call Tick by Deadline. When a
// provisioner closes the link before completion, the session resets and
// waits for another Link Open; once provisioned, Result reports the data and
// device key.
//
// It allocates only what its Link and Device allocate. It is not safe for
// concurrent use.
type DeviceSession struct {
	Link   *Link
	Device *Device
	pdu    [outSlotLen]byte
}

// NewDeviceSession returns a session for the device uuid.
func NewDeviceSession(uuid [16]byte, lc LinkConfig, dc DeviceConfig) (*DeviceSession, error) {
	l, err := NewDeviceLink(lc, uuid)
	if err != nil {
		return nil, err
	}
	d, err := NewDevice(dc)
	if err != nil {
		return nil, err
	}
	return &DeviceSession{Link: l, Device: d}, nil
}

// Receive processes one received PB-ADV payload. Errors from malformed
// payloads are returned for counting; the session stays usable.
func (s *DeviceSession) Receive(now time.Time, payload []byte) error {
	pdu, err := s.Link.Receive(now, payload)
	if pdu != nil {
		s.Device.Receive(now, pdu)
	}
	s.step(now)
	return err
}

// step moves the device's PDUs to the link and handles link closure.
func (s *DeviceSession) step(now time.Time) {
	for s.Link.State() == LinkEstablished {
		b, ok := s.Device.Transmit(now, s.pdu[:0])
		if !ok || s.Link.Send(now, b) != nil {
			break // a full queue cannot happen with the default QueueLen
		}
	}
	if s.Link.State() == LinkClosed && s.Device.State() != StateDone {
		// The provisioner gave up (or the link timed out): be ready for
		// another attempt.
		s.Device.Reset()
		s.Link.Reset(0)
	}
}

// Transmit appends the next PB-ADV payload to advertise to dst.
func (s *DeviceSession) Transmit(now time.Time, dst []byte) ([]byte, bool) {
	s.step(now)
	return s.Link.Transmit(now, dst)
}

// Tick advances the link's and the device's timers.
func (s *DeviceSession) Tick(now time.Time) {
	s.Link.Tick(now)
	s.Device.Tick(now)
	s.step(now)
}

// Deadline returns the earlier of the link's and the device's deadlines.
func (s *DeviceSession) Deadline() (time.Time, bool) {
	a, aok := s.Link.Deadline()
	b, bok := s.Device.Deadline()
	return earlier(a, aok, b, bok)
}

// NextEvent returns the device's next event.
func (s *DeviceSession) NextEvent() (Event, bool) { return s.Device.NextEvent() }

// Result returns the provisioning data and device key once provisioned.
func (s *DeviceSession) Result() (ProvisioningData, [16]byte, bool) { return s.Device.Result() }

func earlier(a time.Time, aok bool, b time.Time, bok bool) (time.Time, bool) {
	switch {
	case !aok:
		return b, bok
	case !bok || a.Before(b):
		return a, true
	}
	return b, true
}

// ProvisionerSession runs the provisioner role over PB-ADV: a [Provisioner]
// behind a provisioner [Link]. Call Open, feed it received PB-ADV payloads,
// advertise what Transmit returns, answer EventCapabilities with
// Provisioner.Start (and OOB prompts with InputNumber/InputString), and call
// Tick by Deadline. It closes the link with reason Success after the
// device's Complete, or Fail when provisioning fails; State tells when the
// session is over.
//
// It is not safe for concurrent use.
type ProvisionerSession struct {
	Link        *Link
	Provisioner *Provisioner
	// BeginManually stops the session from calling Provisioner.Begin as
	// soon as the link is open: set it to fetch provisioning records first
	// (Provisioner.GetRecordsList, GetRecord), then call Begin.
	BeginManually bool
	pdu           [outSlotLen]byte
}

// NewProvisionerSession returns a session that will provision the device
// uuid over a link with the given Link ID (choose it at random).
func NewProvisionerSession(uuid [16]byte, linkID uint32, lc LinkConfig, pc ProvisionerConfig) (*ProvisionerSession, error) {
	l, err := NewProvisionerLink(lc, linkID, uuid)
	if err != nil {
		return nil, err
	}
	p, err := NewProvisioner(pc)
	if err != nil {
		return nil, err
	}
	return &ProvisionerSession{Link: l, Provisioner: p}, nil
}

// Open starts link establishment.
func (s *ProvisionerSession) Open(now time.Time) error { return s.Link.Open(now) }

// Receive processes one received PB-ADV payload.
func (s *ProvisionerSession) Receive(now time.Time, payload []byte) error {
	pdu, err := s.Link.Receive(now, payload)
	if pdu != nil {
		s.Provisioner.Receive(now, pdu)
	}
	s.step(now)
	return err
}

func (s *ProvisionerSession) step(now time.Time) {
	p, l := s.Provisioner, s.Link
	if l.State() == LinkEstablished && p.State() == StateIdle && !s.BeginManually {
		p.Begin(now)
	}
	for l.State() == LinkEstablished {
		b, ok := p.Transmit(now, s.pdu[:0])
		if !ok {
			break
		}
		if err := l.Send(now, b); err != nil {
			p.Abort(err) // queue full: cannot happen with the default QueueLen
			break
		}
	}
	switch {
	case l.State() == LinkEstablished && p.State() == StateDone && l.Pending() == 0:
		l.Close(now, CloseSuccess)
	case l.State() == LinkEstablished && p.State() == StateFailed:
		l.Close(now, CloseFail)
	case l.State() == LinkClosed && p.State() != StateDone && p.State() != StateFailed:
		p.Abort(ErrLinkClosed)
	}
}

// Transmit appends the next PB-ADV payload to advertise to dst.
func (s *ProvisionerSession) Transmit(now time.Time, dst []byte) ([]byte, bool) {
	s.step(now)
	return s.Link.Transmit(now, dst)
}

// Tick advances the link's and the provisioner's timers.
func (s *ProvisionerSession) Tick(now time.Time) {
	s.Link.Tick(now)
	s.Provisioner.Tick(now)
	s.step(now)
}

// Deadline returns the earlier of the link's and the provisioner's deadlines.
func (s *ProvisionerSession) Deadline() (time.Time, bool) {
	a, aok := s.Link.Deadline()
	b, bok := s.Provisioner.Deadline()
	return earlier(a, aok, b, bok)
}

// NextEvent returns the provisioner's next event.
func (s *ProvisionerSession) NextEvent() (Event, bool) { return s.Provisioner.NextEvent() }

// Finished reports whether the session is over (the link closed) and, if
// so, the error of a failed run (nil after success).
func (s *ProvisionerSession) Finished() (bool, error) {
	if s.Link.State() != LinkClosed {
		return false, nil
	}
	if s.Provisioner.State() == StateDone {
		return true, nil
	}
	if err := s.Provisioner.Err(); err != nil {
		return true, err
	}
	return true, ErrLinkClosed
}
