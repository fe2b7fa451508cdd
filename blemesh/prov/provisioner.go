package prov

import (
	"crypto/subtle"
	"io"
	"time"
)

// ProvisionerConfig configures a [Provisioner]. The zero value is usable
// for No OOB provisioning with a fresh key pair.
type ProvisionerConfig struct {
	// AttentionDuration is sent in the Invite (seconds).
	AttentionDuration uint8
	// KeyPair is the provisioner's P-256 key pair; nil means a fresh pair
	// per run (GenerateP256; unavailable under TinyGo without the
	// blemesh_ecdh tag).
	KeyPair KeyPair
	// StaticOOB is the device's static OOB value, for Start with
	// AuthStaticOOB.
	StaticOOB []byte
	// DevicePublicKey is the device's public key obtained out of band, for
	// Start with PublicKey == 1.
	DevicePublicKey *[64]byte
	// Rand supplies Random values and Input OOB numbers; nil means
	// crypto/rand at first use.
	Rand io.Reader
	// Timeout is the provisioning protocol timeout; 0 means
	// DefaultProtocolTimeout.
	Timeout time.Duration
	// MaxRecordLen bounds a provisioning record fetched with GetRecord; 0
	// means DefaultMaxRecordLen.
	MaxRecordLen int
}

// DefaultMaxRecordLen bounds a fetched provisioning record (a device
// certificate is typically under 1 KB).
const DefaultMaxRecordLen = 2048

// Provisioner is the provisioner role of the provisioning protocol (Mesh
// Protocol 1.1 §5.4) as a sans-I/O state machine: call [Provisioner.Begin]
// once the bearer link is open, give it the PDUs the bearer delivers
// ([Provisioner.Receive]), send what [Provisioner.Transmit] returns, serve
// [Provisioner.NextEvent] (answer EventCapabilities with
// [Provisioner.Start]), and call [Provisioner.Tick] by
// [Provisioner.Deadline]. On failure the provisioner sends nothing; close
// the link with reason Fail (§5.4.4).
//
// It is not safe for concurrent use.
type Provisioner struct {
	m   machine
	cfg ProvisionerConfig
	pd  ProvisioningData

	// Provisioning records (Mesh Protocol 1.1 §5.4.2.6), fetched before
	// Begin.
	rec      uint8 // recNone, recList, recFetch
	recID    uint16
	recMax   uint16 // FragmentMaximumSize requested
	recTotal int
	recBuf   []byte
	recIDs   []byte
	recEnd   time.Time
}

const (
	recNone = iota
	recList
	recFetch
)

// NewProvisioner returns a provisioner in StateIdle.
func NewProvisioner(cfg ProvisionerConfig) (*Provisioner, error) {
	if cfg.MaxRecordLen < 0 || cfg.MaxRecordLen > 0xffff {
		return nil, ErrInvalidValue
	}
	if cfg.MaxRecordLen == 0 {
		cfg.MaxRecordLen = DefaultMaxRecordLen
	}
	p := &Provisioner{cfg: cfg}
	if err := p.m.init(cfg.Rand, cfg.Timeout); err != nil {
		return nil, err
	}
	return p, nil
}

// State returns the current state.
func (p *Provisioner) State() State { return p.m.state }

// Err returns why provisioning failed (nil unless State is StateFailed).
func (p *Provisioner) Err() error { return p.m.err }

// PeerCapabilities returns the device's Capabilities (valid after
// EventCapabilities).
func (p *Provisioner) PeerCapabilities() Capabilities { return p.m.caps }

// Result returns the provisioning data sent and the new node's device key
// once State is StateDone.
func (p *Provisioner) Result() (data ProvisioningData, devKey [16]byte, ok bool) {
	if p.m.state != StateDone {
		return data, devKey, false
	}
	return p.pd, p.m.sess.DeviceKey, true
}

// Transmit appends the next provisioning PDU to send to dst and reports
// true, or returns dst and false when nothing is queued.
func (p *Provisioner) Transmit(now time.Time, dst []byte) ([]byte, bool) {
	return p.m.transmit(now, dst)
}

// NextEvent returns the next pending event.
func (p *Provisioner) NextEvent() (Event, bool) { return p.m.nextEvent() }

// Deadline returns the protocol timer's expiry while a run (or a record
// request) is in progress.
func (p *Provisioner) Deadline() (time.Time, bool) {
	switch p.m.state {
	case StateIdle:
		if p.rec != recNone {
			return p.recEnd, true
		}
		return time.Time{}, false
	case StateDone, StateFailed:
		return time.Time{}, false
	}
	return p.m.deadline, true
}

// Tick fails the run with ErrTimeout when the protocol timer has expired.
func (p *Provisioner) Tick(now time.Time) {
	if p.m.state == StateIdle && p.rec != recNone && !now.Before(p.recEnd) {
		p.rec = recNone
		p.m.fail(ErrTimeout, false, 0)
		return
	}
	p.m.tick(now)
}

// Begin starts a run by queueing the Invite. Call it when the bearer link
// is open.
func (p *Provisioner) Begin(now time.Time) error {
	if p.m.state != StateIdle || p.rec != recNone {
		return ErrState
	}
	p.m.invite = Invite{AttentionDuration: p.cfg.AttentionDuration}
	p.m.push((&p.m.invite).AppendBinary(p.m.slot()))
	p.m.state = StateCapabilities
	p.m.touch(now)
	return nil
}

// Reset returns the provisioner to StateIdle for another run (with the same
// configuration), wiping the secrets of the previous one. Buffers are kept.
func (p *Provisioner) Reset() {
	cfg, rnd, to := p.cfg, p.m.rand, p.m.timeout
	recBuf, recIDs := p.recBuf[:0], p.recIDs[:0]
	*p = Provisioner{cfg: cfg, recBuf: recBuf, recIDs: recIDs}
	p.m.rand, p.m.timeout = rnd, to
}

// Abort ends the run with err (for example when the bearer link closed).
func (p *Provisioner) Abort(err error) { p.m.fail(err, false, 0) }

// Start answers EventCapabilities: it sends the Start PDU s and the
// provisioner's public key, and records data, the provisioning data to send
// once the device is authenticated. It fails with ErrUnsupportedStart if
// the device's capabilities do not allow s, and ErrInvalidValue for invalid
// data, a missing static OOB value or a missing out-of-band public key.
func (p *Provisioner) Start(now time.Time, s Start, data ProvisioningData) error {
	m := &p.m
	if m.state != StateStart {
		return ErrState
	}
	if !s.Supported(&m.caps) {
		return ErrUnsupportedStart
	}
	if err := data.Validate(); err != nil {
		return err
	}
	if uint32(data.UnicastAddress)+uint32(m.caps.NumElements)-1 > 0x7fff {
		return ErrInvalidValue
	}
	if s.AuthMethod == AuthStaticOOB && len(p.cfg.StaticOOB) == 0 {
		return ErrInvalidValue
	}
	if s.PublicKey == 1 && p.cfg.DevicePublicKey == nil {
		return ErrInvalidValue
	}
	m.keys = p.cfg.KeyPair
	if m.keys == nil {
		k, err := defaultKeyPair(m.reader())
		if err != nil {
			return err
		}
		m.keys = k
	}
	m.ownKey = m.keys.PublicKey()
	m.start = s
	p.pd = data
	m.sess.Algorithm = s.Algorithm
	if s.AuthMethod == AuthStaticOOB {
		m.sess.AuthValue = AuthStatic(s.Algorithm, p.cfg.StaticOOB)
	}
	m.push((&m.start).AppendBinary(m.slot()))
	m.push((&PublicKey{Key: m.ownKey}).AppendBinary(m.slot()))
	m.touch(now)
	if s.PublicKey == 1 {
		m.peerKey = *p.cfg.DevicePublicKey
		if err := p.keysExchanged(); err != nil {
			return nil // the run failed; Err and EventFailed say why
		}
		return nil
	}
	m.state = StatePublicKey
	return nil
}

// InputNumber passes the number the user read from the device (Output OOB
// with a numeric action: the count of blinks, beeps or vibrations, or the
// displayed number).
func (p *Provisioner) InputNumber(now time.Time, n uint32) error {
	if p.m.state != StateOOBInput {
		return ErrState
	}
	if err := p.m.checkNumber(n); err != nil {
		return err
	}
	p.m.authNumber(n)
	p.m.touch(now)
	p.sendConfirmation()
	return nil
}

// InputString passes the string the user read from the device (Output OOB,
// alphanumeric action).
func (p *Provisioner) InputString(now time.Time, s string) error {
	if p.m.state != StateOOBInput {
		return ErrState
	}
	if err := p.m.checkString(s); err != nil {
		return err
	}
	var b [MaxOOBSize]byte
	n := copy(b[:], s)
	p.m.authString(b[:n])
	p.m.touch(now)
	p.sendConfirmation()
	return nil
}

// Receive processes one provisioning PDU delivered by the bearer. A protocol
// error or a Failed PDU ends the run (StateFailed, EventFailed); the
// returned error is then the same as Err.
func (p *Provisioner) Receive(now time.Time, pdu []byte) error {
	m := &p.m
	if m.tick(now) {
		return m.err
	}
	if m.state == StateIdle && p.rec != recNone {
		return p.onRecord(now, pdu)
	}
	if m.state == StateDone || m.state == StateFailed || m.state == StateIdle {
		return nil
	}
	t, err := PeekType(pdu)
	if err != nil {
		m.fail(FailedError{Code: ErrCodeInvalidPDU, Sent: true}, false, 0)
		return m.err
	}
	if t == TypeFailed {
		var f Failed
		if _, err := f.Decode(pdu); err != nil {
			f.Code = ErrCodeInvalidFormat
		}
		m.fail(FailedError{Code: f.Code}, false, 0)
		return m.err
	}
	if t != p.expect() {
		m.fail(FailedError{Code: ErrCodeUnexpectedPDU, Sent: true}, false, 0)
		return m.err
	}
	m.touch(now)
	switch t {
	case TypeCapabilities:
		err = p.onCapabilities(pdu)
	case TypePublicKey:
		err = p.onPublicKey(pdu)
	case TypeInputComplete:
		m.event(Event{Kind: EventInputDone})
		p.sendConfirmation()
	case TypeConfirmation:
		err = p.onConfirmation(pdu)
	case TypeRandom:
		err = p.onRandom(pdu)
	case TypeComplete:
		m.state = StateDone
		m.event(Event{Kind: EventComplete})
	}
	if err != nil {
		return m.err
	}
	return nil
}

func (p *Provisioner) expect() PDUType {
	switch p.m.state {
	case StateCapabilities:
		return TypeCapabilities
	case StatePublicKey:
		return TypePublicKey
	case StateInputComplete:
		return TypeInputComplete
	case StateConfirmation:
		return TypeConfirmation
	case StateRandom:
		return TypeRandom
	case StateComplete:
		return TypeComplete
	}
	return 0xff
}

// failLocal ends the run for a reason detected here; like the device's
// code, it is reported as a FailedError with Sent set, though the
// provisioner sends no PDU.
func (p *Provisioner) failLocal(code ErrorCode) error {
	p.m.fail(FailedError{Code: code, Sent: true}, false, 0)
	return p.m.err
}

//go:noinline
func (p *Provisioner) onCapabilities(pdu []byte) error {
	m := &p.m
	if _, err := m.caps.Decode(pdu); err != nil || m.caps.Validate() != nil {
		return p.failLocal(ErrCodeInvalidFormat)
	}
	m.state = StateStart
	m.event(Event{Kind: EventCapabilities})
	return nil
}

//go:noinline
func (p *Provisioner) onPublicKey(pdu []byte) error {
	var pk PublicKey
	if _, err := pk.Decode(pdu); err != nil {
		return p.failLocal(ErrCodeInvalidFormat)
	}
	p.m.peerKey = pk.Key
	return p.keysExchanged()
}

// keysExchanged runs ECDH and moves to the authentication step.
//
//go:noinline
func (p *Provisioner) keysExchanged() error {
	m := &p.m
	if err := m.ecdh(); err != nil {
		return p.failLocal(ErrCodeInvalidFormat)
	}
	m.sess.Inputs = ConfirmationInputs(&m.invite, &m.caps, &m.start, &m.ownKey, &m.peerKey)
	switch m.start.AuthMethod {
	case AuthOutputOOB:
		m.state = StateOOBInput
		m.event(Event{Kind: EventInputOOB, Method: AuthOutputOOB, Action: m.start.AuthAction, Size: m.start.AuthSize})
	case AuthInputOOB:
		e, err := m.generateOOB()
		if err != nil {
			return p.failLocal(ErrCodeUnexpectedError)
		}
		m.state = StateInputComplete
		m.event(e)
	default:
		p.sendConfirmation()
	}
	return nil
}

//go:noinline
func (p *Provisioner) sendConfirmation() {
	m := &p.m
	if err := m.sess.DeriveConfirmationKey(); err != nil {
		p.failLocal(ErrCodeUnexpectedError)
		return
	}
	if err := m.newRandom(); err != nil {
		p.failLocal(ErrCodeUnexpectedError)
		return
	}
	c, err := m.sess.Confirm(&m.random)
	if err != nil {
		p.failLocal(ErrCodeUnexpectedError)
		return
	}
	m.push((&Confirmation{Value: c}).AppendBinary(m.slot()))
	m.state = StateConfirmation
}

//go:noinline
func (p *Provisioner) onConfirmation(pdu []byte) error {
	m := &p.m
	var c Confirmation
	if _, err := c.Decode(pdu); err != nil || int(c.Len) != m.start.Algorithm.AuthSize() {
		return p.failLocal(ErrCodeInvalidFormat)
	}
	own, _ := m.sess.Confirm(&m.random)
	if subtle.ConstantTimeCompare(own.Bytes(), c.Bytes()) == 1 {
		return p.failLocal(ErrCodeConfirmationFailed) // reflected
	}
	m.peerConf = c.Value
	m.push((&Random{Value: m.random}).AppendBinary(m.slot()))
	m.state = StateRandom
	return nil
}

//go:noinline
func (p *Provisioner) onRandom(pdu []byte) error {
	m := &p.m
	var r Random
	if _, err := r.Decode(pdu); err != nil || int(r.Len) != m.start.Algorithm.AuthSize() {
		return p.failLocal(ErrCodeInvalidFormat)
	}
	m.peerRand = r.Value
	if subtle.ConstantTimeCompare(m.peerRand.Bytes(), m.random.Bytes()) == 1 || !m.sess.Verify(&m.peerConf, &m.peerRand) {
		return p.failLocal(ErrCodeConfirmationFailed)
	}
	if err := m.sess.DeriveSessionKeys(&m.random, &m.peerRand); err != nil {
		return p.failLocal(ErrCodeUnexpectedError)
	}
	data, err := m.sess.EncryptData(&p.pd)
	if err != nil {
		return p.failLocal(ErrCodeUnexpectedError)
	}
	m.push((&data).AppendBinary(m.slot()))
	m.state = StateComplete
	return nil
}

// GetRecordsList asks the device for its list of provisioning records
// (Records Get, Mesh Protocol 1.1 §5.4.2.6). Call it on an open link before
// Begin; EventRecordsList follows, then read Records.
func (p *Provisioner) GetRecordsList(now time.Time) error {
	if p.m.state != StateIdle || p.rec != recNone {
		return ErrState
	}
	p.m.push((&RecordsGet{}).AppendBinary(p.m.slot()))
	p.rec = recList
	p.recEnd = now.Add(p.m.timeout)
	return nil
}

// Records returns the record IDs of the last Records List (valid after
// EventRecordsList; the slice is the provisioner's own, read-only).
func (p *Provisioner) Records() RecordsList {
	return RecordsList{IDs: p.recIDs}
}

// GetRecord fetches the record id with Record Requests of at most maxFragment
// octets each (before Begin). EventRecord follows; read it with Record. A
// record the device does not have, or one over MaxRecordLen, ends with
// EventRecord and Record reporting ok == false.
func (p *Provisioner) GetRecord(now time.Time, id uint16, maxFragment uint16) error {
	if p.m.state != StateIdle || p.rec != recNone {
		return ErrState
	}
	if maxFragment == 0 {
		return ErrInvalidValue
	}
	if p.recBuf == nil {
		p.recBuf = make([]byte, 0, p.cfg.MaxRecordLen)
	}
	p.rec, p.recID, p.recMax, p.recTotal = recFetch, id, maxFragment, -1
	p.recBuf = p.recBuf[:0]
	p.requestFragment(now)
	return nil
}

func (p *Provisioner) requestFragment(now time.Time) {
	p.m.push((&RecordRequest{RecordID: p.recID, FragmentOffset: uint16(len(p.recBuf)), FragmentMaxSize: p.recMax}).AppendBinary(p.m.slot()))
	p.recEnd = now.Add(p.m.timeout)
}

// Record returns the record fetched by GetRecord (valid after EventRecord
// until the next GetRecord): ok is false if the device does not have it or
// it was too large.
func (p *Provisioner) Record() (id uint16, data []byte, ok bool) {
	return p.recID, p.recBuf, p.recTotal >= 0 && len(p.recBuf) == p.recTotal
}

func (p *Provisioner) recordDone(ok bool) {
	if !ok {
		p.recTotal = -1
	}
	p.rec = recNone
	p.m.event(Event{Kind: EventRecord})
}

// onRecord handles Records List and Record Response before Begin.
//
//go:noinline
func (p *Provisioner) onRecord(now time.Time, pdu []byte) error {
	m := &p.m
	t, err := PeekType(pdu)
	switch {
	case err == nil && t == TypeFailed:
		var f Failed
		f.Decode(pdu)
		p.rec = recNone
		m.fail(FailedError{Code: f.Code}, false, 0)
		return m.err
	case err == nil && p.rec == recList && t == TypeRecordsList:
		var l RecordsList
		if _, err := l.Decode(pdu); err != nil {
			p.rec = recNone
			return p.failLocal(ErrCodeInvalidFormat)
		}
		p.recIDs = append(p.recIDs[:0], l.IDs...)
		p.rec = recNone
		m.event(Event{Kind: EventRecordsList})
		return nil
	case err == nil && p.rec == recFetch && t == TypeRecordResponse:
		var r RecordResponse
		if _, err := r.Decode(pdu); err != nil || r.RecordID != p.recID {
			p.rec = recNone
			return p.failLocal(ErrCodeInvalidFormat)
		}
		if r.Status != RecordStatusSuccess {
			p.recordDone(false)
			return nil
		}
		if int(r.FragmentOffset) != len(p.recBuf) || len(r.Data) == 0 || len(r.Data) > int(p.recMax) ||
			(p.recTotal >= 0 && int(r.TotalLength) != p.recTotal) || len(p.recBuf)+len(r.Data) > int(r.TotalLength) {
			p.rec = recNone
			return p.failLocal(ErrCodeInvalidFormat)
		}
		if int(r.TotalLength) > cap(p.recBuf) {
			p.recordDone(false) // over MaxRecordLen
			return nil
		}
		p.recTotal = int(r.TotalLength)
		p.recBuf = append(p.recBuf, r.Data...)
		if len(p.recBuf) == p.recTotal {
			p.recordDone(true)
			return nil
		}
		p.requestFragment(now)
		return nil
	}
	p.rec = recNone
	return p.failLocal(ErrCodeUnexpectedPDU)
}
