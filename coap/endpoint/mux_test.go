package endpoint

import (
	"testing"

	"github.com/edgekit/edgekit/coap"
)

func TestMuxAndLinkFormat(t *testing.T) {
	mux := NewMux()
	ok := HandlerFunc(func(w *ResponseWriter, r *Request) { w.WriteString(r.Msg.Code.String()) })
	mux.Handle(coap.GET, "/sensors/temp", ok)
	mux.SetAttrs("/sensors/temp", Attrs{RT: "temperature-c core.s", IF: "sensor", CT: []coap.MediaType{coap.TextPlain, coap.AppSenMLJSON}, Observable: true})
	mux.Handle(coap.Empty, "/any", ok)
	mux.Handle(coap.PUT, "/any", HandlerFunc(func(w *ResponseWriter, r *Request) { w.SetCode(coap.Created) }))
	mux.Handle(coap.GET, "fw", ok) // no leading slash
	mux.SetAttrs("/fw", Attrs{Title: "Firmware", Size: 4096})
	mux.Handle(coap.GET, "/secret", ok)
	mux.SetAttrs("/secret", Attrs{Hidden: true})

	want := `</sensors/temp>;rt="temperature-c core.s";if="sensor";ct="0 110";obs,</any>,</fw>;title="Firmware";sz=4096`
	if got := string(mux.AppendLinkFormat(nil, "")); got != want {
		t.Fatalf("link format:\n got %s\nwant %s", got, want)
	}
	filters := map[string]string{
		"rt=core.s":     "</sensors/temp>",
		"rt=temp*":      "</sensors/temp>",
		"href=/s*":      "</sensors/temp>",
		"href=/fw":      "</fw>",
		"ct=110":        "</sensors/temp>",
		"title=Firm*":   "</fw>",
		"obs":           "</sensors/temp>",
		"if=nothing":    "",
		"sz=4096":       "</fw>",
		"unknownattr=1": "",
	}
	for f, prefix := range filters {
		got := string(mux.AppendLinkFormat(nil, f))
		if prefix == "" && got != "" || prefix != "" && (len(got) < len(prefix) || got[:len(prefix)] != prefix || contains(got, ",")) {
			t.Errorf("filter %q: %q", f, got)
		}
	}

	_, w, c := memServer(t, Config{Handler: mux})
	mid := coap.MessageID(0)
	do := func(code coap.Code, path string) *coap.Message {
		var m coap.Message
		mid++
		m.Type, m.Code, m.MessageID = coap.Confirmable, code, mid
		m.SetPath(path)
		in, _ := m.AppendBinary(nil)
		w.handle(in, testPeer)
		out, _ := c.Last()
		return decode(t, out)
	}
	cases := []struct {
		code coap.Code
		path string
		want coap.Code
		body string
	}{
		{coap.GET, "/sensors/temp", coap.Content, "GET"},
		{coap.POST, "/sensors/temp", coap.MethodNotAllowed, ""},
		{coap.DELETE, "/any", coap.Changed, "DELETE"},
		{coap.PUT, "/any", coap.Created, ""},
		{coap.FETCH, "/any", coap.Content, "FETCH"},
		{coap.GET, "/nope", coap.NotFound, ""},
		{coap.POST, WellKnownCore, coap.MethodNotAllowed, ""},
		{coap.GET, "/fw", coap.Content, "GET"},
	}
	for _, tc := range cases {
		r := do(tc.code, tc.path)
		if r.Code != tc.want || string(r.Payload) != tc.body {
			t.Errorf("%v %s: %v %q; want %v %q", tc.code, tc.path, r.Code, r.Payload, tc.want, tc.body)
		}
	}
	r := do(coap.GET, WellKnownCore)
	if cf, _ := r.ContentFormat(); cf != coap.AppLinkFormat || string(r.Payload) != want {
		t.Fatalf("/.well-known/core: %v %q", cf, r.Payload)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Handle with a response code did not panic")
		}
	}()
	mux.Handle(coap.Content, "/x", ok)
}
