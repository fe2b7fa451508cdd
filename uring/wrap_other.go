//go:build !unix

package uring

// msgTrunc: ReadMsgUDPAddrPort reports no truncation flag here.
const msgTrunc = 0
