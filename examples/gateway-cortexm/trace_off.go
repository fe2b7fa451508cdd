//go:build tinygo && lm3s6965 && !gwheaptrace

package main

// heapTrace makes the board report every heap allocation after start-up on
// the console (build with -tags gwheaptrace; it reads the heap statistics
// after every Poll, which slows the firmware down).
const heapTrace = false
