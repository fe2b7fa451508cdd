//go:build !race

package hci_test

const raceEnabled = false
