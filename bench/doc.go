// Package bench holds side-by-side benchmarks of edgekit packages against
// peer libraries. It is its own module so that peers never enter the main
// module's go.mod. Run it from this directory:
//
//	go test -run '^$' -bench . -benchmem -count 10 | tee new.txt
//	benchstat new.txt
//
// RESULTS.md records the commands, the machine and the figures.
package bench
