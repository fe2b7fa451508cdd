package endpoint

import (
	"strconv"
	"strings"
	"sync"

	"github.com/edgekit/edgekit/coap"
)

// WellKnownCore is the resource discovery path of RFC 6690 §4.
const WellKnownCore = "/.well-known/core"

// Attrs are the CoRE Link Format attributes of a resource (RFC 6690
// §3), listed by /.well-known/core, and whether it may be observed.
type Attrs struct {
	RT    string           // resource type (rt)
	IF    string           // interface description (if)
	Title string           // title
	CT    []coap.MediaType // content formats (ct)
	Size  int              // maximum size estimate (sz); 0: not listed
	// Observable lets GET with Observe=0 register (RFC 7641); the
	// resource is listed with the obs attribute.
	Observable bool
	// Hidden leaves the resource out of /.well-known/core.
	Hidden bool
}

// Mux routes requests by Uri-Path and method. It answers 4.04 for an
// unknown path, 4.05 for a method without a handler, and serves
// /.well-known/core in CoRE Link Format from its routes unless a handler
// is registered for that path. It is safe for concurrent use; lookups
// allocate nothing.
type Mux struct {
	mu     sync.RWMutex
	routes map[string]*route
	order  []*route
}

type route struct {
	path    string
	methods [32]Handler // by method code 0.01-0.31; [0] = any method
	attrs   Attrs
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{routes: make(map[string]*route)} }

func (m *Mux) route(path string) *route {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	r := m.routes[path]
	if r == nil {
		r = &route{path: path}
		m.routes[path] = r
		m.order = append(m.order, r)
	}
	return r
}

// Handle registers h for method on path ("/a/b"). method coap.Empty
// registers h for every method without its own handler. Handle panics if
// method is not in class 0 (a response code), as it is a programming
// error.
func (m *Mux) Handle(method coap.Code, path string, h Handler) {
	if method.Class() != 0 {
		panic("coap/endpoint: Mux.Handle: not a method code: " + method.String())
	}
	m.mu.Lock()
	m.route(path).methods[method] = h
	m.mu.Unlock()
}

// HandleFunc registers f for method on path.
func (m *Mux) HandleFunc(method coap.Code, path string, f func(*ResponseWriter, *Request)) {
	m.Handle(method, path, HandlerFunc(f))
}

// SetAttrs sets the link attributes and observability of path.
func (m *Mux) SetAttrs(path string, a Attrs) {
	m.mu.Lock()
	m.route(path).attrs = a
	m.mu.Unlock()
}

// ServeCoAP implements [Handler].
func (m *Mux) ServeCoAP(w *ResponseWriter, r *Request) {
	var buf [256]byte
	path := r.Msg.AppendPath(buf[:0])
	m.mu.RLock()
	rt := m.routes[string(path)]
	var h Handler
	var obs bool
	if rt != nil {
		if r.Msg.Code < 32 {
			h = rt.methods[r.Msg.Code]
		}
		if h == nil {
			h = rt.methods[0]
		}
		obs = rt.attrs.Observable
	}
	m.mu.RUnlock()
	switch {
	case h != nil:
		if obs {
			w.AllowObserve()
		}
		h.ServeCoAP(w, r)
	case rt != nil:
		w.SetCode(coap.MethodNotAllowed)
	case string(path) == WellKnownCore:
		if r.Msg.Code != coap.GET {
			w.SetCode(coap.MethodNotAllowed)
			return
		}
		var q [128]byte
		w.SetContentFormat(coap.AppLinkFormat)
		w.body = m.AppendLinkFormat(w.body[:0], string(r.Msg.AppendQuery(q[:0])))
	default:
		w.SetCode(coap.NotFound)
	}
}

// AppendLinkFormat appends the CoRE Link Format description (RFC 6690
// §2) of the visible routes to dst, in registration order, keeping only
// those that match filter, a query of the form "attr=value" where value
// may end in '*' for a prefix match (§4.1); "" keeps all.
func (m *Mux) AppendLinkFormat(dst []byte, filter string) []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	first := true
	for _, rt := range m.order {
		if rt.attrs.Hidden || rt.path == WellKnownCore || !matchFilter(rt, filter) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendLink(dst, rt)
	}
	return dst
}

func appendLink(dst []byte, rt *route) []byte {
	a := &rt.attrs
	dst = append(dst, '<')
	dst = append(dst, rt.path...)
	dst = append(dst, '>')
	if a.RT != "" {
		dst = append(dst, `;rt="`...)
		dst = append(dst, a.RT...)
		dst = append(dst, '"')
	}
	if a.IF != "" {
		dst = append(dst, `;if="`...)
		dst = append(dst, a.IF...)
		dst = append(dst, '"')
	}
	switch len(a.CT) {
	case 0:
	case 1:
		dst = append(dst, ";ct="...)
		dst = strconv.AppendUint(dst, uint64(a.CT[0]), 10)
	default:
		dst = append(dst, `;ct="`...)
		for i, ct := range a.CT {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = strconv.AppendUint(dst, uint64(ct), 10)
		}
		dst = append(dst, '"')
	}
	if a.Title != "" {
		dst = append(dst, `;title="`...)
		dst = append(dst, a.Title...)
		dst = append(dst, '"')
	}
	if a.Size > 0 {
		dst = append(dst, ";sz="...)
		dst = strconv.AppendInt(dst, int64(a.Size), 10)
	}
	if a.Observable {
		dst = append(dst, ";obs"...)
	}
	return dst
}

func matchFilter(rt *route, filter string) bool {
	if filter == "" {
		return true
	}
	name, val, _ := strings.Cut(filter, "=")
	match := func(s string) bool {
		if p, ok := strings.CutSuffix(val, "*"); ok {
			return strings.HasPrefix(s, p)
		}
		return s == val
	}
	matchAny := func(s string) bool { // space-separated attribute values
		for _, f := range strings.Fields(s) {
			if match(f) {
				return true
			}
		}
		return false
	}
	a := &rt.attrs
	switch name {
	case "href":
		return match(rt.path)
	case "rt":
		return matchAny(a.RT)
	case "if":
		return matchAny(a.IF)
	case "title":
		return match(a.Title)
	case "ct":
		for _, ct := range a.CT {
			if match(strconv.Itoa(int(ct))) {
				return true
			}
		}
		return false
	case "obs":
		return a.Observable
	case "sz":
		return a.Size > 0 && match(strconv.Itoa(a.Size))
	}
	return false
}
