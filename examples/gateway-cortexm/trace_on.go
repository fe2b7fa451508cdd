//go:build gwheaptrace

package main

const heapTrace = true
