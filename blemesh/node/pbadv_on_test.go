//go:build !tinygo || blemesh_pbadv

package node_test

const pbadvBuiltIn = true
