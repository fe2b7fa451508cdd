//go:build !unix

package mqttbrokerbench

func raiseNoFileMax() {}
