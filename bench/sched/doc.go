// Package schedbench compares the sched worker pool with
// github.com/panjf2000/ants/v2 and with a plain `go f()` per task joined by a
// sync.WaitGroup. Run it from the bench directory:
//
//	go test -run '^$' -bench . -benchmem -benchtime 200ms ./sched
//
// ns/op is per task; the tasks/s metric is its inverse.
package schedbench
