module github.com/edgekit/edgekit/bench

go 1.25.0

replace github.com/edgekit/edgekit => ../

require (
	github.com/Workiva/go-datastructures v1.1.7
	github.com/bytedance/gopkg v0.1.4
	github.com/eclipse/paho.golang v0.23.0
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/edgekit/edgekit v0.0.0
	github.com/libp2p/go-buffer-pool v0.1.0
	github.com/mochi-mqtt/server/v2 v2.7.9
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/plgd-dev/go-coap/v3 v3.5.5
	github.com/valyala/bytebufferpool v1.0.0
)

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/dsnet/golib/memfile v1.0.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pion/dtls/v3 v3.1.15 // indirect
	github.com/pion/logging v0.2.4 // indirect
	github.com/pion/transport/v5 v5.0.0 // indirect
	github.com/rs/xid v1.4.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/exp v0.0.0-20260611194520-c48552f49976 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sync v0.21.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
