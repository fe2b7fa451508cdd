package endpoint

import "sync/atomic"

// Stats are counters of an [Endpoint] since New.
type Stats struct {
	Received        uint64 // datagrams read
	Sent            uint64 // datagrams written
	Dropped         uint64 // dropped: worker queue full or datagram too long
	ReadErrors      uint64
	WriteErrors     uint64
	FormatErrors    uint64 // malformed messages (RST sent for CON)
	Duplicates      uint64 // duplicate CON/NON answered from the dedup cache or ignored
	Requests        uint64 // requests handed to the handler
	Retransmissions uint64 // CON retransmissions sent
	Timeouts        uint64 // CON exchanges that exhausted MAX_RETRANSMIT
	Observers       int64  // current server-side observe registrations
	Notifications   uint64 // notifications sent
	Reassemblies    int64  // Block1 uploads in progress
	HandlerPanics   uint64
	// MulticastPending is the number of multicast responses waiting for
	// their leisure delay; MulticastDropped counts those not sent because
	// Config.MaxPendingMulticast were already waiting.
	MulticastPending int64
	MulticastDropped uint64
	// EchoChallenges counts 4.01 responses carrying an Echo option sent
	// because Config.Echo required a fresh one (RFC 9175).
	EchoChallenges uint64
}

type counters struct {
	received, sent, dropped, readErrors, writeErrors, formatErrors atomic.Uint64
	duplicates, requests, retransmissions, timeouts, notifications atomic.Uint64
	handlerPanics, multicastDropped, echoChallenges                atomic.Uint64
	observers, reassemblies, multicastPending                      atomic.Int64
}

// Stats returns a snapshot of the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	c := &e.stats
	return Stats{
		Received: c.received.Load(), Sent: c.sent.Load(), Dropped: c.dropped.Load(),
		ReadErrors: c.readErrors.Load(), WriteErrors: c.writeErrors.Load(),
		FormatErrors: c.formatErrors.Load(), Duplicates: c.duplicates.Load(),
		Requests: c.requests.Load(), Retransmissions: c.retransmissions.Load(),
		Timeouts: c.timeouts.Load(), Observers: c.observers.Load(),
		Notifications: c.notifications.Load(), Reassemblies: c.reassemblies.Load(),
		HandlerPanics:    c.handlerPanics.Load(),
		MulticastPending: c.multicastPending.Load(),
		MulticastDropped: c.multicastDropped.Load(),
		EchoChallenges:   c.echoChallenges.Load(),
	}
}
