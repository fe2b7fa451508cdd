package prov

import (
	"crypto/rand"
	"errors"
	"io"
	"time"
)

// DefaultProtocolTimeout is the provisioning protocol timeout (Mesh Protocol
// 1.1 §5.4.4): provisioning fails if no PDU is sent or received for 60 s.
const DefaultProtocolTimeout = 60 * time.Second

// Errors of the provisioning state machines.
var (
	// ErrState reports a call the state machine's state does not allow
	// (an OOB value nobody asked for, Start before Capabilities).
	ErrState = errors.New("blemesh/prov: call not allowed in this provisioning state")
	// ErrTimeout reports that the provisioning protocol timed out.
	ErrTimeout = errors.New("blemesh/prov: provisioning protocol timeout")
	// ErrUnsupportedStart reports a Start PDU the device's capabilities do
	// not allow.
	ErrUnsupportedStart = errors.New("blemesh/prov: start not supported by the device capabilities")
)

// FailedError is the error of a provisioning run that ended with a
// Provisioning Failed code: sent by the device, or received by the
// provisioner. Use errors.As to read the code.
type FailedError struct {
	Code ErrorCode
	Sent bool // true: this end sent the code; false: the peer did
}

// Error returns a description of the failure.
func (e FailedError) Error() string {
	if e.Sent {
		return "blemesh/prov: provisioning failed: " + e.Code.String()
	}
	return "blemesh/prov: peer reported provisioning failure: " + e.Code.String()
}

// State is the state of a [Device] or [Provisioner].
type State uint8

// Provisioning states. Each names what the machine waits for.
const (
	StateIdle          State = iota // device: Invite; provisioner: Begin not called
	StateCapabilities               // provisioner: Capabilities
	StateStart                      // device: Start; provisioner: the application's Start call
	StatePublicKey                  // the peer's Public Key
	StateOOBInput                   // the application's OOB value (InputNumber/InputString)
	StateInputComplete              // provisioner: the device's Input Complete
	StateConfirmation               // the peer's Confirmation
	StateRandom                     // the peer's Random
	StateData                       // device: Provisioning Data
	StateComplete                   // provisioner: Provisioning Complete
	StateDone                       // provisioned
	StateFailed                     // failed; see Err
)

var stateNames = [...]string{
	"idle", "capabilities", "start", "public-key", "oob-input", "input-complete",
	"confirmation", "random", "data", "complete", "done", "failed",
}

// String returns the name of s.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "invalid"
}

// EventKind says what an [Event] asks of or tells the application.
type EventKind uint8

// Event kinds.
const (
	EventNone EventKind = iota
	// EventAttention (device): an Invite arrived; run the Attention Timer
	// for Event.Attention seconds.
	EventAttention
	// EventCapabilities (provisioner): the device's capabilities arrived
	// (Provisioner.PeerCapabilities); call Provisioner.Start.
	EventCapabilities
	// EventOutputOOB: show Event.Number (or Event.Str for alphanumeric
	// actions) to the user with Event.Action: the device outputs under
	// Output OOB, the provisioner under Input OOB.
	EventOutputOOB
	// EventInputOOB: ask the user for the value the peer shows (Event.Action,
	// at most Event.Size digits or characters) and pass it to InputNumber or
	// InputString.
	EventInputOOB
	// EventInputDone (provisioner, Input OOB): the device reported Input
	// Complete; the displayed value can be hidden.
	EventInputDone
	// EventRecordsList (provisioner): the device's Records List arrived;
	// see Provisioner.Records.
	EventRecordsList
	// EventRecord (provisioner): a GetRecord finished; see
	// Provisioner.Record.
	EventRecord
	// EventComplete: provisioning succeeded.
	EventComplete
	// EventFailed: provisioning failed; Event.Err says why (a FailedError
	// carries the code). The bearer link should be closed: by the
	// provisioner with reason Fail, by the device when the provisioner
	// closes it.
	EventFailed
)

// Event is a notification from a state machine, read with its NextEvent
// method. It is a plain value.
type Event struct {
	Kind      EventKind
	Attention uint8      // EventAttention
	Method    AuthMethod // EventOutputOOB, EventInputOOB
	Action    uint8      // OOB action (OutputXxx or InputXxx value)
	Size      uint8      // OOB size
	Number    uint32     // EventOutputOOB with a numeric action
	str       [MaxOOBSize]byte
	strLen    uint8
	Err       error // EventFailed
}

// Str returns the alphanumeric OOB value of an EventOutputOOB.
func (e *Event) Str() string { return string(e.str[:e.strLen]) }

// outSlotLen bounds one queued outgoing PDU (a Record Response fragment
// included).
const outSlotLen = 128

// machine is the part shared by Device and Provisioner: the outgoing PDU
// queue, the event queue, the protocol timer and the session secrets.
type machine struct {
	rand     io.Reader
	timeout  time.Duration
	deadline time.Time
	state    State
	err      error

	out     [3][outSlotLen]byte
	outLen  [3]uint8
	outHead uint8
	outN    uint8

	ev     [4]Event
	evHead uint8
	evN    uint8

	keys     KeyPair
	invite   Invite
	caps     Capabilities
	start    Start
	sess     Session
	ownKey   [64]byte
	peerKey  [64]byte
	random   Value // ours
	peerConf Value // the peer's Confirmation
	peerRand Value
}

func (m *machine) init(r io.Reader, timeout time.Duration) error {
	if timeout < 0 {
		return ErrInvalidValue
	}
	if timeout == 0 {
		timeout = DefaultProtocolTimeout
	}
	m.rand = r
	m.timeout = timeout
	return nil
}

func (m *machine) reader() io.Reader {
	if m.rand == nil {
		m.rand = rand.Reader
	}
	return m.rand
}

// touch restarts the protocol timer.
func (m *machine) touch(now time.Time) { m.deadline = now.Add(m.timeout) }

// slot returns the empty buffer of the next outgoing PDU, for a PDU's
// AppendBinary to fill (no copy, no allocation); push commits it.
func (m *machine) slot() []byte {
	if m.outN == uint8(len(m.out)) {
		return nil // cannot happen: each step queues at most three PDUs
	}
	i := (m.outHead + m.outN) % uint8(len(m.out))
	return m.out[i][:0]
}

// push commits the PDU that AppendBinary wrote into slot.
func (m *machine) push(b []byte, err error) {
	if err != nil || m.outN == uint8(len(m.out)) || len(b) > outSlotLen {
		return
	}
	i := (m.outHead + m.outN) % uint8(len(m.out))
	if len(b) > 0 && &b[0] != &m.out[i][0] {
		return // AppendBinary grew past the slot: cannot happen, PDUs are bounded
	}
	m.outLen[i] = uint8(len(b))
	m.outN++
}

func (m *machine) event(e Event) {
	if m.evN == uint8(len(m.ev)) {
		m.evHead = (m.evHead + 1) % uint8(len(m.ev)) // drop the oldest
		m.evN--
	}
	m.ev[(m.evHead+m.evN)%uint8(len(m.ev))] = e
	m.evN++
}

// transmit pops the next outgoing PDU into dst.
func (m *machine) transmit(now time.Time, dst []byte) ([]byte, bool) {
	if m.outN == 0 {
		return dst, false
	}
	i := m.outHead
	dst = append(dst, m.out[i][:m.outLen[i]]...)
	m.outHead = (m.outHead + 1) % uint8(len(m.out))
	m.outN--
	if m.state != StateDone && m.state != StateFailed {
		m.touch(now)
	}
	return dst, true
}

func (m *machine) nextEvent() (Event, bool) {
	if m.evN == 0 {
		return Event{}, false
	}
	e := m.ev[m.evHead]
	m.evHead = (m.evHead + 1) % uint8(len(m.ev))
	m.evN--
	return e, true
}

// fail ends the run with err; the device also queues a Failed PDU.
func (m *machine) fail(err error, sendCode bool, code ErrorCode) {
	if m.state == StateFailed || m.state == StateDone {
		return
	}
	if sendCode {
		f := Failed{Code: code}
		m.push((&f).AppendBinary(m.slot()))
		err = FailedError{Code: code, Sent: true}
	}
	m.state = StateFailed
	m.err = err
	m.sess.Wipe()
	m.event(Event{Kind: EventFailed, Err: err})
}

func (m *machine) tick(now time.Time) bool {
	switch m.state {
	case StateIdle, StateDone, StateFailed:
		return false
	}
	if !now.Before(m.deadline) {
		m.fail(ErrTimeout, false, 0)
		return true
	}
	return false
}

// newRandom draws our Random value.
func (m *machine) newRandom() error {
	n := m.start.Algorithm.AuthSize()
	m.random = Value{Len: uint8(n)}
	_, err := io.ReadFull(m.reader(), m.random.B[:n])
	return err
}

// setAuthFromOOB fills AuthValue from a number or string typed or generated
// for the current OOB action.
func (m *machine) authNumber(n uint32) { m.sess.AuthValue = AuthNumeric(m.start.Algorithm, n) }

func (m *machine) authString(s []byte) {
	var a [32]byte
	copy(a[:], s)
	m.sess.AuthValue = a
}

// generateOOB draws the value this end shows to the user and sets AuthValue.
func (m *machine) generateOOB() (Event, error) {
	e := Event{Kind: EventOutputOOB, Method: m.start.AuthMethod, Action: m.start.AuthAction, Size: m.start.AuthSize}
	if numericAction(m.start.AuthMethod, m.start.AuthAction) {
		n, err := randomNumber(m.reader(), m.start.AuthSize, countAction(m.start.AuthMethod, m.start.AuthAction))
		if err != nil {
			return e, err
		}
		e.Number = n
		m.authNumber(n)
		return e, nil
	}
	if err := randomString(m.reader(), &e.str, m.start.AuthSize); err != nil {
		return e, err
	}
	e.strLen = m.start.AuthSize
	m.authString(e.str[:e.strLen])
	return e, nil
}

// checkInput validates a value the user typed for the current OOB action.
func (m *machine) checkNumber(n uint32) error {
	if !numericAction(m.start.AuthMethod, m.start.AuthAction) || n >= pow10[m.start.AuthSize] {
		return ErrInvalidValue
	}
	return nil
}

func (m *machine) checkString(s string) error {
	if numericAction(m.start.AuthMethod, m.start.AuthAction) || len(s) == 0 || len(s) > int(m.start.AuthSize) {
		return ErrInvalidValue
	}
	return nil
}

// ecdh computes the shared secret with the peer's key and rejects a
// reflected public key.
func (m *machine) ecdh() error {
	if m.peerKey == m.ownKey {
		return ErrInvalidPublicKey
	}
	s, err := m.keys.ECDH(&m.peerKey)
	if err != nil {
		return ErrInvalidPublicKey
	}
	m.sess.ECDHSecret = s
	return nil
}
