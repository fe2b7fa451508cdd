package hci

import (
	"context"
	"time"

	"github.com/edgekit/edgekit/blemesh/node"
)

// Run drives n over b from the calling goroutine until ctx is done or the
// bearer stops: received mesh AD structures go to n.Receive, n.Tick runs at
// n's deadlines, and the functions received on do run in between (the way
// to call n.Send or n.Publish from other goroutines, since a Node is not
// safe for concurrent use). do may be nil.
func Run(ctx context.Context, b *Bearer, n *node.Node, do <-chan func(n *node.Node, now time.Time)) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	rx := b.Received()
	for {
		wait := time.Hour
		if d, ok := n.Deadline(); ok {
			if wait = time.Until(d); wait < 0 {
				wait = 0
			}
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
			if err := b.Err(); err != nil {
				return err
			}
			return ErrClosed
		case r := <-rx:
			a := r.Adv()
			n.Receive(time.Now(), &a)
		case f := <-do:
			f(n, time.Now())
		case <-t.C:
			n.Tick(time.Now())
		}
	}
}
