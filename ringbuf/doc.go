// Package ringbuf provides bounded lock-free queues for moving items and
// bytes between goroutines on a gateway's data path.
//
// Pick the ring by who pushes and who pops:
//
//   - [SPSC]: one producer, one consumer. The fastest: each side reads the
//     other's index only when its cached copy says full or empty.
//   - [MPSC]: many producers, one consumer (fan-in to a writer goroutine).
//   - [MPMC]: many producers, many consumers (a shared work queue).
//   - [Lossy]: never blocks producers; when full it evicts the oldest item
//     (latest-value telemetry) and counts the drop.
//   - [Bytes]: a byte stream between one writer and one reader, with
//     io.Reader/io.Writer and Peek/Discard for parsing frames in place.
//
// Every ring has non-blocking TryPush/TryPop and batch forms, and blocking
// Push/Pop that take a context. A batch moves many items with one update of
// the shared index, and that is where a ring beats a channel: on a 2-core
// test machine an SPSC ring moved ints in batches of 64 at 1/20 of a
// buffered channel's cost per item, and blocking Push/Pop of one item per
// call about half the channel's (bench/RESULTS.md). Hand items over in
// batches where the data path allows it.
//
// Blocking calls spin briefly, looking at the other side every
// [Config.PollInterval] (1.5 µs) with the CPU's spin-wait hint in between,
// then yield with runtime.Gosched, then park until the other side, Close or
// their context wakes them (tune with [Config.Spin] and [Config.Yield]).
// Polling that seldom is what makes single items cheap: a consumer that
// caught up does not pull the producer's index line across on every item,
// and finds a run of items when it looks again. They allocate nothing and
// never sleep on a timer. Close lets consumers drain what is queued; producers then
// fail with [ErrClosed].
//
// Capacities are powers of two. Indices are machine words that wrap around
// freely; they are exact on 32-bit targets and under TinyGo, where padding
// between fields is dropped to save RAM.
package ringbuf
