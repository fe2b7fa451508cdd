package beacon

import (
	"errors"
	"time"
)

// IV Update procedure defaults (Mesh Protocol 1.1 §3.10.5).
const (
	DefaultMinStateDuration = 96 * time.Hour
	DefaultRecoveryInterval = 192 * time.Hour
	// MaxIVIndexJump is how far ahead of the current IV Index a beacon may
	// be and still be acted on.
	MaxIVIndexJump = 42
)

// Errors of the procedures.
var (
	ErrTooSoon = errors.New("blemesh/beacon: minimum state duration not elapsed")
	ErrState   = errors.New("blemesh/beacon: transition not allowed in this state")
)

// IVConfig configures an IVUpdate state machine. The zero value uses the
// specification's 96-hour minimum state duration and 192-hour recovery
// interval.
type IVConfig struct {
	MinStateDuration time.Duration
	RecoveryInterval time.Duration
	// TestMode drops the minimum durations, like the IV Update test mode
	// of Mesh Protocol 1.1 §3.10.5.1.
	TestMode bool
}

// IVEvent reports what OnBeacon did.
type IVEvent uint8

// IVEvent values.
const (
	IVNone          IVEvent = iota // beacon ignored or nothing changed
	IVUpdateStarted                // Normal -> In Progress with IVIndex + 1
	IVUpdateDone                   // In Progress -> Normal: reset SEQ
	IVRecovered                    // IV Index Recovery: new IV Index, reset SEQ
)

// IVUpdate is the IV Update procedure state (Mesh Protocol 1.1 §3.10.5):
// the current IV Index and whether an update is in progress. During an
// update a node transmits with IVIndex - 1 and receives with both. It is
// driven by authenticated Secure Network or Mesh Private beacons and by
// the node itself; time is passed in. Not safe for concurrent use.
type IVUpdate struct {
	IVIndex    uint32
	InProgress bool
	since      time.Time
	lastRecov  time.Time
	recovered  bool
	cfg        IVConfig
}

// NewIVUpdate returns the state of a node provisioned with ivIndex and
// IV Update flag inProgress at time now.
func NewIVUpdate(cfg IVConfig, ivIndex uint32, inProgress bool, now time.Time) IVUpdate {
	if cfg.MinStateDuration <= 0 {
		cfg.MinStateDuration = DefaultMinStateDuration
	}
	if cfg.RecoveryInterval <= 0 {
		cfg.RecoveryInterval = DefaultRecoveryInterval
	}
	return IVUpdate{IVIndex: ivIndex, InProgress: inProgress, since: now, cfg: cfg}
}

// TxIVIndex returns the IV Index to transmit with.
func (s *IVUpdate) TxIVIndex() uint32 {
	if s.InProgress && s.IVIndex > 0 {
		return s.IVIndex - 1
	}
	return s.IVIndex
}

// Flags returns the IV Update bit of the beacon flags this node sends.
func (s *IVUpdate) Flags() uint8 {
	if s.InProgress {
		return FlagIVUpdate
	}
	return 0
}

func (s *IVUpdate) elapsed(now time.Time) bool {
	return s.cfg.TestMode || now.Sub(s.since) >= s.cfg.MinStateDuration
}

// OnBeacon applies an authenticated beacon's IV Index and IV Update flag.
func (s *IVUpdate) OnBeacon(now time.Time, ivIndex uint32, ivUpdate bool) IVEvent {
	if s.InProgress {
		if ivIndex != s.IVIndex || ivUpdate {
			return IVNone
		}
		if !s.elapsed(now) {
			return IVNone
		}
		s.InProgress = false
		s.since = now
		return IVUpdateDone
	}
	if ivIndex <= s.IVIndex || ivIndex > s.IVIndex+MaxIVIndexJump {
		return IVNone
	}
	if ivIndex == s.IVIndex+1 && ivUpdate {
		if !s.elapsed(now) {
			return IVNone
		}
		s.IVIndex = ivIndex
		s.InProgress = true
		s.since = now
		return IVUpdateStarted
	}
	// IV Index Recovery (§3.10.6): at most once per RecoveryInterval.
	if s.recovered && !s.cfg.TestMode && now.Sub(s.lastRecov) < s.cfg.RecoveryInterval {
		return IVNone
	}
	s.IVIndex = ivIndex
	s.InProgress = ivUpdate
	s.since = now
	s.lastRecov = now
	s.recovered = true
	return IVRecovered
}

// Start begins an IV Update initiated by this node (for example when its
// sequence numbers run low): IVIndex + 1, In Progress.
func (s *IVUpdate) Start(now time.Time) error {
	if s.InProgress {
		return ErrState
	}
	if !s.elapsed(now) {
		return ErrTooSoon
	}
	s.IVIndex++
	s.InProgress = true
	s.since = now
	return nil
}

// Finish ends an update this node is in: back to Normal (reset SEQ).
func (s *IVUpdate) Finish(now time.Time) error {
	if !s.InProgress {
		return ErrState
	}
	if !s.elapsed(now) {
		return ErrTooSoon
	}
	s.InProgress = false
	s.since = now
	return nil
}

// Key Refresh phases (Mesh Protocol 1.1 §3.10.4).
const (
	PhaseNormal     = 0 // one key
	PhaseDistribute = 1 // new key received; old key used to transmit
	PhaseUseNew     = 2 // new key used to transmit; both received
	PhaseRevoke     = 3 // transient: old key revoked, back to PhaseNormal
)

// KeyRefresh is the Key Refresh procedure state of one network key. Driven
// by Config NetKey Update, Config Key Refresh Phase Set and Secure Network /
// Mesh Private beacons with the Key Refresh flag. Not safe for concurrent
// use.
type KeyRefresh struct {
	Phase uint8
}

// NetKeyUpdate moves Normal to phase 1 when a new key is distributed. A
// repeated update in phase 1 is accepted.
func (k *KeyRefresh) NetKeyUpdate() error {
	switch k.Phase {
	case PhaseNormal:
		k.Phase = PhaseDistribute
		return nil
	case PhaseDistribute:
		return nil
	}
	return ErrState
}

// OnBeacon applies a beacon's Key Refresh flag. newKey reports whether the
// beacon was authenticated with the new key (only such beacons move the
// phase). It returns the old and the new phase; when the new phase is
// PhaseNormal after phase 1 or 2, the old key must be revoked.
func (k *KeyRefresh) OnBeacon(kr, newKey bool) (from, to uint8) {
	from = k.Phase
	if !newKey {
		return from, from
	}
	switch k.Phase {
	case PhaseDistribute:
		if kr {
			k.Phase = PhaseUseNew
		} else {
			k.Phase = PhaseNormal
		}
	case PhaseUseNew:
		if !kr {
			k.Phase = PhaseNormal
		}
	}
	return from, k.Phase
}

// SetPhase applies Config Key Refresh Phase Set with Transition 2 or 3
// (§4.3.2.51).
func (k *KeyRefresh) SetPhase(transition uint8) error {
	switch transition {
	case PhaseUseNew:
		if k.Phase == PhaseDistribute || k.Phase == PhaseUseNew {
			k.Phase = PhaseUseNew
			return nil
		}
		if k.Phase == PhaseNormal {
			return nil // no refresh in progress: status reports phase 0
		}
	case PhaseRevoke:
		if k.Phase == PhaseDistribute || k.Phase == PhaseUseNew {
			k.Phase = PhaseNormal
			return nil
		}
		if k.Phase == PhaseNormal {
			return nil
		}
	}
	return ErrState
}

// Flags returns the Key Refresh bit for beacons sent in the current phase.
func (k *KeyRefresh) Flags() uint8 {
	if k.Phase == PhaseUseNew {
		return FlagKeyRefresh
	}
	return 0
}
