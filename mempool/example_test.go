package mempool_test

import (
	"fmt"
	"sync"

	"github.com/edgekit/edgekit/mempool"
)

func Example() {
	p, err := mempool.New(mempool.Config{MaxSize: 4 << 10, CountOps: true})
	if err != nil {
		panic(err)
	}

	// One owner: get a buffer of the length you need, use it, put it back.
	b := p.Get(100)
	fmt.Println("len", len(b.B), "cap", cap(b.B))
	copy(b.B, "hello")
	p.Put(b)

	// Fan-out: encode a message once and hand the same buffer to three
	// subscribers. Each holds a reference and releases it when written;
	// the last release returns the buffer to the pool.
	msg := p.Get(0)
	msg.B = append(msg.B, "temp=21.5"...)
	subscribers := 3
	var wg sync.WaitGroup
	out := make([]string, subscribers)
	for i := 0; i < subscribers; i++ {
		msg.Retain() // one reference per subscriber
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = string(msg.B) // stands in for conn.Write(msg.B)
			msg.Release()
		}()
	}
	msg.Release() // drop the encoder's own reference
	wg.Wait()
	fmt.Println(out)

	s := p.Stats()
	fmt.Println("gets", s.Total.Gets, "puts", s.Total.Puts, "outstanding", s.Total.Outstanding)
	// Output:
	// len 100 cap 128
	// [temp=21.5 temp=21.5 temp=21.5]
	// gets 2 puts 2 outstanding 0
}
