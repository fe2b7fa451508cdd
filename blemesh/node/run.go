package node

import (
	"context"
	"time"

	"github.com/edgekit/edgekit/blemesh/bearer"
)

// Run drives n from the calling goroutine until ctx is done: it passes each
// advertisement received on advs to Receive (the payloads must be owned
// copies, see [bearer.Adv.Clone]) and calls Tick at n's deadlines, using the
// real clock. It returns ctx.Err(), or nil when advs is closed.
func Run(ctx context.Context, n *Node, advs <-chan bearer.Adv) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := time.Hour
		if d, ok := n.Deadline(); ok {
			wait = time.Until(d)
			if wait < 0 {
				wait = 0
			}
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case a, ok := <-advs:
			if !ok {
				return nil
			}
			n.Receive(time.Now(), &a)
		case <-t.C:
			n.Tick(time.Now())
		}
	}
}
