//go:build tinygo && lm3s6965 && gwheaptrace

package main

const heapTrace = true
