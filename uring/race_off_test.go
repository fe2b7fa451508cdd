//go:build !race

package uring_test

const raceEnabled = false
