//go:build race

package hci_test

const raceEnabled = true
