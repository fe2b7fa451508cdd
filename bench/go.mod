module github.com/edgekit/edgekit/bench

go 1.25.0

replace github.com/edgekit/edgekit => ../

require (
	github.com/libp2p/go-buffer-pool v0.1.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)
