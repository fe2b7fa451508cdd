package prov

import (
	"crypto/subtle"
	"io"
	"time"
)

// DeviceConfig configures a [Device]. The zero value is not usable:
// Capabilities.NumElements and Capabilities.Algorithms must be set.
type DeviceConfig struct {
	// Capabilities is what the device advertises in its Capabilities PDU.
	Capabilities Capabilities
	// KeyPair is the device's P-256 key pair. Nil means a fresh pair per
	// provisioning run (GenerateP256; unavailable under TinyGo without the
	// blemesh_ecdh tag). Set it when the public key is available out of band
	// (Capabilities.PublicKeyType).
	KeyPair KeyPair
	// StaticOOB is the static OOB value (16 octets for the CMAC algorithm,
	// 32 for HMAC; shorter values are zero-padded, longer truncated). It is
	// required when Capabilities.OOBType has OOBStaticAvailable.
	StaticOOB []byte
	// Rand supplies Random values and OOB numbers; nil means crypto/rand at
	// first use.
	Rand io.Reader
	// Timeout is the provisioning protocol timeout; 0 means
	// DefaultProtocolTimeout.
	Timeout time.Duration
	// Records are the device's provisioning records (Mesh Protocol 1.1
	// §5.4.2.6), served to Records Get and Record Request before the
	// Invite. Nil means the device does not support provisioning records
	// and answers those PDUs with Unexpected PDU, as Zephyr does.
	Records []Record
}

// Record is one provisioning record: its Record ID and content.
type Record struct {
	ID   uint16
	Data []byte
}

// maxFragment bounds a Record Response fragment this package sends.
const maxFragment = outSlotLen - 8

// Device is the device (provisionee) role of the provisioning protocol (Mesh
// Protocol 1.1 §5.4), as a sans-I/O state machine: give it the provisioning
// PDUs the bearer delivers ([Device.Receive]), send what [Device.Transmit]
// returns, serve [Device.NextEvent], and call [Device.Tick] by
// [Device.Deadline]. On failure it sends Provisioning Failed and waits for
// the provisioner to close the link (§5.4.4).
//
// A Device allocates only in the key agreement and the HMAC algorithm's
// hashing. It is not safe for concurrent use.
type Device struct {
	m   machine
	cfg DeviceConfig
	pd  ProvisioningData
}

// NewDevice returns a device ready for an Invite. It fails with
// ErrInvalidValue for invalid Capabilities, a missing static OOB value, or a
// negative Timeout.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if err := cfg.Capabilities.Validate(); err != nil {
		return nil, err
	}
	if cfg.Capabilities.OOBType&OOBStaticAvailable != 0 && len(cfg.StaticOOB) == 0 {
		return nil, ErrInvalidValue
	}
	if cfg.Capabilities.PublicKeyType&PublicKeyOOBAvailable != 0 && cfg.KeyPair == nil {
		return nil, ErrInvalidValue
	}
	for _, r := range cfg.Records {
		if len(r.Data) > 0xffff {
			return nil, ErrInvalidValue
		}
	}
	d := &Device{cfg: cfg}
	if err := d.m.init(cfg.Rand, cfg.Timeout); err != nil {
		return nil, err
	}
	return d, nil
}

// State returns the current state.
func (d *Device) State() State { return d.m.state }

// Err returns why provisioning failed (nil unless State is StateFailed).
func (d *Device) Err() error { return d.m.err }

// Result returns the provisioning data and device key once State is
// StateDone.
func (d *Device) Result() (data ProvisioningData, devKey [16]byte, ok bool) {
	if d.m.state != StateDone {
		return data, devKey, false
	}
	return d.pd, d.m.sess.DeviceKey, true
}

// Transmit appends the next provisioning PDU to send to dst and reports
// true, or returns dst and false when nothing is queued.
func (d *Device) Transmit(now time.Time, dst []byte) ([]byte, bool) {
	return d.m.transmit(now, dst)
}

// NextEvent returns the next pending event.
func (d *Device) NextEvent() (Event, bool) { return d.m.nextEvent() }

// Deadline returns the protocol timer's expiry while a run is in progress.
func (d *Device) Deadline() (time.Time, bool) {
	switch d.m.state {
	case StateIdle, StateDone, StateFailed:
		return time.Time{}, false
	}
	return d.m.deadline, true
}

// Tick fails the run with ErrTimeout when the protocol timer has expired.
func (d *Device) Tick(now time.Time) { d.m.tick(now) }

// Reset makes the device wait for a new Invite, for example after the link
// closed on a failure. Secrets of the previous run are wiped.
func (d *Device) Reset() {
	cfg := d.cfg
	rnd, to := d.m.rand, d.m.timeout
	*d = Device{cfg: cfg}
	d.m.rand, d.m.timeout = rnd, to
}

// InputNumber passes the number the user entered on the device (Input OOB
// with a numeric action: the count of pushes or twists, or the number
// shown by the provisioner). The device then sends Input Complete.
func (d *Device) InputNumber(now time.Time, n uint32) error {
	if d.m.state != StateOOBInput {
		return ErrState
	}
	if err := d.m.checkNumber(n); err != nil {
		return err
	}
	d.m.authNumber(n)
	return d.inputDone(now)
}

// InputString passes the alphanumeric string the user entered (Input OOB,
// alphanumeric action).
func (d *Device) InputString(now time.Time, s string) error {
	if d.m.state != StateOOBInput {
		return ErrState
	}
	if err := d.m.checkString(s); err != nil {
		return err
	}
	var b [MaxOOBSize]byte
	n := copy(b[:], s)
	d.m.authString(b[:n])
	return d.inputDone(now)
}

func (d *Device) inputDone(now time.Time) error {
	d.m.push((&InputComplete{}).AppendBinary(d.m.slot()))
	d.m.state = StateConfirmation
	d.m.touch(now)
	return nil
}

// Receive processes one provisioning PDU delivered by the bearer. Protocol
// errors are handled as the specification requires (a Failed PDU is queued
// and the state becomes StateFailed); the returned error is the same as Err
// in that case, and nil for PDUs accepted or ignored.
func (d *Device) Receive(now time.Time, pdu []byte) error {
	m := &d.m
	if m.tick(now) {
		return m.err
	}
	if m.state == StateDone || m.state == StateFailed {
		return nil // ignore PDUs until the link closes (§5.4.4)
	}
	t, err := PeekType(pdu)
	if err != nil {
		m.fail(nil, true, ErrCodeInvalidPDU)
		return m.err
	}
	if m.state == StateIdle && d.cfg.Records != nil && (t == TypeRecordsGet || t == TypeRecordRequest) {
		return d.onRecords(t, pdu)
	}
	if t != d.expect() {
		m.fail(nil, true, ErrCodeUnexpectedPDU)
		return m.err
	}
	m.touch(now)
	switch t {
	case TypeInvite:
		err = d.onInvite(pdu)
	case TypeStart:
		err = d.onStart(pdu)
	case TypePublicKey:
		err = d.onPublicKey(pdu)
	case TypeConfirmation:
		err = d.onConfirmation(pdu)
	case TypeRandom:
		err = d.onRandom(pdu)
	case TypeData:
		err = d.onData(pdu)
	}
	if err != nil {
		return m.err
	}
	return nil
}

// expect returns the PDU type the device accepts in its state.
func (d *Device) expect() PDUType {
	switch d.m.state {
	case StateIdle:
		return TypeInvite
	case StateStart:
		return TypeStart
	case StatePublicKey:
		return TypePublicKey
	case StateConfirmation:
		return TypeConfirmation
	case StateRandom:
		return TypeRandom
	case StateData:
		return TypeData
	}
	return 0xff // nothing: waiting for the application
}

// failWith fails the run, queueing a Failed PDU with code.
func (d *Device) failWith(code ErrorCode) error {
	d.m.fail(nil, true, code)
	return d.m.err
}

//go:noinline
func (d *Device) onInvite(pdu []byte) error {
	m := &d.m
	if _, err := m.invite.Decode(pdu); err != nil {
		return d.failWith(ErrCodeInvalidFormat)
	}
	m.caps = d.cfg.Capabilities
	m.push((&m.caps).AppendBinary(m.slot()))
	m.state = StateStart
	if m.invite.AttentionDuration != 0 {
		m.event(Event{Kind: EventAttention, Attention: m.invite.AttentionDuration})
	}
	return nil
}

//go:noinline
func (d *Device) onStart(pdu []byte) error {
	m := &d.m
	if _, err := m.start.Decode(pdu); err != nil || !m.start.Supported(&m.caps) {
		return d.failWith(ErrCodeInvalidFormat)
	}
	m.sess.Algorithm = m.start.Algorithm
	switch m.start.AuthMethod {
	case AuthStaticOOB:
		m.sess.AuthValue = AuthStatic(m.start.Algorithm, d.cfg.StaticOOB)
	case AuthOutputOOB:
		e, err := m.generateOOB()
		if err != nil {
			return d.failWith(ErrCodeUnexpectedError)
		}
		m.event(e)
	}
	m.keys = d.cfg.KeyPair
	if m.keys == nil {
		k, err := defaultKeyPair(m.reader())
		if err != nil {
			return d.failWith(ErrCodeOutOfResources)
		}
		m.keys = k
	}
	m.ownKey = m.keys.PublicKey()
	m.state = StatePublicKey
	return nil
}

//go:noinline
func (d *Device) onPublicKey(pdu []byte) error {
	m := &d.m
	var pk PublicKey
	if _, err := pk.Decode(pdu); err != nil {
		return d.failWith(ErrCodeInvalidFormat)
	}
	m.peerKey = pk.Key
	if err := m.ecdh(); err != nil {
		return d.failWith(ErrCodeInvalidFormat)
	}
	if m.start.PublicKey == 0 {
		own := PublicKey{Key: m.ownKey}
		m.push((&own).AppendBinary(m.slot()))
	}
	m.sess.Inputs = ConfirmationInputs(&m.invite, &m.caps, &m.start, &m.peerKey, &m.ownKey)
	if m.start.AuthMethod == AuthInputOOB {
		m.state = StateOOBInput
		m.event(Event{Kind: EventInputOOB, Method: AuthInputOOB, Action: m.start.AuthAction, Size: m.start.AuthSize})
		return nil
	}
	m.state = StateConfirmation
	return nil
}

//go:noinline
func (d *Device) onConfirmation(pdu []byte) error {
	m := &d.m
	var c Confirmation
	if _, err := c.Decode(pdu); err != nil || int(c.Len) != m.start.Algorithm.AuthSize() {
		return d.failWith(ErrCodeInvalidFormat)
	}
	m.peerConf = c.Value
	if err := m.sess.DeriveConfirmationKey(); err != nil {
		return d.failWith(ErrCodeUnexpectedError)
	}
	if err := m.newRandom(); err != nil {
		return d.failWith(ErrCodeUnexpectedError)
	}
	own, err := m.sess.Confirm(&m.random)
	if err != nil {
		return d.failWith(ErrCodeUnexpectedError)
	}
	if subtle.ConstantTimeCompare(own.Bytes(), m.peerConf.Bytes()) == 1 {
		return d.failWith(ErrCodeConfirmationFailed) // reflected Confirmation
	}
	m.push((&Confirmation{Value: own}).AppendBinary(m.slot()))
	m.state = StateRandom
	return nil
}

//go:noinline
func (d *Device) onRandom(pdu []byte) error {
	m := &d.m
	var r Random
	if _, err := r.Decode(pdu); err != nil || int(r.Len) != m.start.Algorithm.AuthSize() {
		return d.failWith(ErrCodeInvalidFormat)
	}
	m.peerRand = r.Value
	if subtle.ConstantTimeCompare(m.peerRand.Bytes(), m.random.Bytes()) == 1 || !m.sess.Verify(&m.peerConf, &m.peerRand) {
		return d.failWith(ErrCodeConfirmationFailed)
	}
	if err := m.sess.DeriveSessionKeys(&m.peerRand, &m.random); err != nil {
		return d.failWith(ErrCodeUnexpectedError)
	}
	m.push((&Random{Value: m.random}).AppendBinary(m.slot()))
	m.state = StateData
	return nil
}

//go:noinline
func (d *Device) onData(pdu []byte) error {
	m := &d.m
	var p Data
	if _, err := p.Decode(pdu); err != nil {
		return d.failWith(ErrCodeInvalidFormat)
	}
	pd, err := m.sess.DecryptData(&p)
	if err == ErrDecryption {
		return d.failWith(ErrCodeDecryptionFailed)
	}
	if err != nil {
		return d.failWith(ErrCodeInvalidData)
	}
	if uint32(pd.UnicastAddress)+uint32(m.caps.NumElements)-1 > 0x7fff {
		return d.failWith(ErrCodeCannotAssignAddr)
	}
	d.pd = pd
	m.push((&Complete{}).AppendBinary(m.slot()))
	m.state = StateDone
	m.event(Event{Kind: EventComplete})
	return nil
}

// onRecords answers Records Get and Record Request (before the Invite).
//
//go:noinline
func (d *Device) onRecords(t PDUType, pdu []byte) error {
	m := &d.m
	if t == TypeRecordsGet {
		var g RecordsGet
		if _, err := g.Decode(pdu); err != nil {
			return d.failWith(ErrCodeInvalidFormat)
		}
		var ids [outSlotLen - 3]byte
		n := 0
		for _, r := range d.cfg.Records {
			if n+2 > len(ids) {
				break
			}
			ids[n], ids[n+1] = byte(r.ID>>8), byte(r.ID)
			n += 2
		}
		m.push((&RecordsList{IDs: ids[:n]}).AppendBinary(m.slot()))
		return nil
	}
	var req RecordRequest
	if _, err := req.Decode(pdu); err != nil || req.FragmentMaxSize == 0 {
		return d.failWith(ErrCodeInvalidFormat)
	}
	resp := RecordResponse{Status: RecordStatusRequestedAbsent, RecordID: req.RecordID, FragmentOffset: req.FragmentOffset}
	for _, r := range d.cfg.Records {
		if r.ID != req.RecordID {
			continue
		}
		resp.TotalLength = uint16(len(r.Data))
		if int(req.FragmentOffset) >= len(r.Data) {
			resp.Status = RecordStatusOffsetOutOfBound
			break
		}
		end := len(r.Data)
		if n := int(req.FragmentOffset) + int(req.FragmentMaxSize); n < end {
			end = n
		}
		if n := int(req.FragmentOffset) + maxFragment; n < end {
			end = n
		}
		resp.Status = RecordStatusSuccess
		resp.Data = r.Data[req.FragmentOffset:end]
		break
	}
	m.push((&resp).AppendBinary(m.slot()))
	return nil
}
