module github.com/edgekit/edgekit/bench

go 1.25.0

replace github.com/edgekit/edgekit => ../

require (
	github.com/Workiva/go-datastructures v1.1.7
	github.com/bytedance/gopkg v0.1.4
	github.com/edgekit/edgekit v0.0.0
	github.com/libp2p/go-buffer-pool v0.1.0
	github.com/valyala/bytebufferpool v1.0.0
)

require golang.org/x/sys v0.47.0 // indirect
