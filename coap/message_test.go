package coap

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeFixtures(t *testing.T) {
	for _, fx := range fixtures {
		var m Message
		n, err := m.Decode(fx.wire)
		if err != nil || n != len(fx.wire) {
			t.Fatalf("%s: Decode = %d, %v", fx.name, n, err)
		}
		if !m.Equal(&fx.msg) {
			t.Fatalf("%s: decoded %+v; want %+v", fx.name, m, fx.msg)
		}
	}
}

func TestEncodeFixtures(t *testing.T) {
	for _, fx := range fixtures {
		m := fx.msg
		out, err := m.AppendBinary([]byte("pre"))
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		if !bytes.Equal(out[3:], fx.wire) || string(out[:3]) != "pre" {
			t.Fatalf("%s: encoded % x; want % x", fx.name, out[3:], fx.wire)
		}
		if got := m.EncodedLen(); got != len(fx.wire) {
			t.Fatalf("%s: EncodedLen = %d; want %d", fx.name, got, len(fx.wire))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"short", []byte{0x40, 0x01, 0x00}, ErrShort},
		{"version 2", []byte{0x80, 0x01, 0, 1}, ErrVersion},
		{"version 0", []byte{0x00, 0x01, 0, 1}, ErrVersion},
		{"tkl 9", []byte{0x49, 0x01, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9}, FormatTokenLength},
		{"tkl 15", []byte{0x4f, 0x01, 0, 1}, FormatTokenLength},
		{"empty with token", []byte{0x41, 0x00, 0, 1, 7}, FormatEmptyNotEmpty},
		{"empty with byte", []byte{0x40, 0x00, 0, 1, 0xff}, FormatEmptyNotEmpty},
		{"empty NON", []byte{0x50, 0x00, 0, 1}, FormatNonEmpty},
		{"RST with code", []byte{0x70, 0x45, 0, 1}, FormatResetNotEmpty},
		{"ACK with GET", []byte{0x60, 0x01, 0, 1}, FormatAckRequest},
		{"class 1", []byte{0x40, 0x21, 0, 1}, FormatReservedClass},
		{"class 7", []byte{0x40, 0xe0, 0, 1}, FormatReservedClass},
		{"token truncated", []byte{0x44, 0x01, 0, 1, 1, 2}, FormatTruncated},
		{"delta 15", []byte{0x40, 0x01, 0, 1, 0xf0}, FormatReservedNibble},
		{"length 15", []byte{0x40, 0x01, 0, 1, 0x1f}, FormatReservedNibble},
		{"payload marker, no payload", []byte{0x40, 0x01, 0, 1, 0xff}, FormatEmptyPayload},
		{"option value truncated", []byte{0x40, 0x01, 0, 1, 0xb3, 'a'}, FormatTruncated},
		{"ext delta truncated", []byte{0x40, 0x01, 0, 1, 0xd0}, FormatTruncated},
		{"ext length truncated", []byte{0x40, 0x01, 0, 1, 0x1e, 0}, FormatTruncated},
		{"number overflow", []byte{0x40, 0x01, 0, 1, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff}, FormatOptionNumber},
	}
	for _, c := range cases {
		var m Message
		_, err := m.Decode(c.wire)
		if err != c.want {
			t.Errorf("%s: err = %v; want %v", c.name, err, c.want)
		}
		var fe FormatError
		if errors.As(err, &fe) {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: %v does not match ErrFormat", c.name, err)
			}
			if m.MessageID != 1 {
				t.Errorf("%s: MessageID %d not filled in for the RST", c.name, m.MessageID)
			}
			if err.Error() == "" {
				t.Errorf("%s: empty error text", c.name)
			}
		}
	}
}

func TestTooManyOptions(t *testing.T) {
	wire := []byte{0x40, 0x01, 0, 1}
	for i := 0; i <= MaxOptions; i++ {
		wire = append(wire, 0x00) // If-... no: delta 0, length 0: option number 0 repeated
	}
	var m Message
	if _, err := m.Decode(wire); err != FormatTooManyOptions {
		t.Fatalf("err = %v; want FormatTooManyOptions", err)
	}
}

func TestCheckOptions(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		bad  OptionID
	}{
		{"ok", []Option{{URIPath, []byte("a")}, {URIPath, []byte("b")}, {ContentFormat, nil}}, 0},
		{"unknown elective ignored", []Option{{1000, []byte{1}}}, 0},
		{"unknown critical", []Option{{URIPath, []byte("a")}, {1001, nil}}, 1001},
		{"uri-port too long", []Option{{URIPort, []byte{1, 2, 3}}}, URIPort},
		{"two Block2", []Option{{Block2, []byte{1}}, {Block2, []byte{2}}}, Block2},
		{"two ETag fine (repeatable)", []Option{{ETag, []byte{1}}, {ETag, []byte{2}}}, 0},
		{"two Max-Age elective ignored", []Option{{MaxAge, []byte{1}}, {MaxAge, []byte{2}}}, 0},
		{"empty Uri-Host", []Option{{URIHost, nil}}, URIHost},
	}
	for _, c := range cases {
		m := Message{Type: Confirmable, Code: GET, Options: c.opts}
		id, err := m.CheckOptions()
		if c.bad == 0 && err != nil || c.bad != 0 && (err != ErrBadOption || id != c.bad) {
			t.Errorf("%s: CheckOptions = %v, %v; want %v", c.name, id, err, c.bad)
		}
	}
	m := Message{Options: []Option{{MaxAge, []byte{1}}, {MaxAge, []byte{2}}, {Size1, make([]byte, 5)}}}
	if !m.Recognised(0) || m.Recognised(1) || m.Recognised(2) {
		t.Fatal("Recognised: want first Max-Age only")
	}
}

func TestOptionHelpers(t *testing.T) {
	var m Message
	m.Type, m.Code, m.MessageID = Confirmable, POST, 9
	m.SetPath("/sensors/temp")
	m.SetQuery("?a=1&b")
	m.SetContentFormat(AppSenMLCBOR)
	m.SetUint(Accept, uint32(AppCBOR))
	m.SetBlock1(Block{Num: 3, More: true, SZX: 6})
	m.AddString(URIHost, "h")
	m.SetUint(Observe, 0)
	m.AddOptionCopy(RequestTag, []byte{7})
	if got := string(m.AppendPath(nil)); got != "/sensors/temp" {
		t.Fatalf("path %q", got)
	}
	if got := string(m.AppendQuery(nil)); got != "a=1&b" {
		t.Fatalf("query %q", got)
	}
	if cf, ok := m.ContentFormat(); !ok || cf != AppSenMLCBOR {
		t.Fatalf("content format %v %v", cf, ok)
	}
	if b, ok, err := m.Block1(); !ok || err != nil || b != (Block{Num: 3, More: true, SZX: 6}) {
		t.Fatalf("block1 %+v %v %v", b, ok, err)
	}
	if v, ok := m.Observe(); !ok || v != 0 {
		t.Fatal("observe")
	}
	for i := 1; i < len(m.Options); i++ {
		if m.Options[i].ID < m.Options[i-1].ID {
			t.Fatalf("options out of order: %v", m.Options)
		}
	}
	wire, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var d Message
	if _, err := d.Decode(wire); err != nil || !d.Equal(&m) {
		t.Fatalf("round trip: %v %+v", err, d)
	}
	c := d.Clone()
	for i := range wire {
		wire[i] = 0
	}
	if !c.Equal(&m) {
		t.Fatal("Clone aliases the decoded buffer")
	}
	m.RemoveOption(URIPath)
	if m.HasOption(URIPath) || string(m.AppendPath(nil)) != "/" {
		t.Fatal("RemoveOption")
	}
	m.Options = []Option{{URIPath, nil}, {IfMatch, nil}}
	if _, err := m.AppendBinary(nil); err != ErrOptionOrder {
		t.Fatalf("unsorted: %v", err)
	}
	var u Message
	if err := u.UnmarshalBinary(fixtures[2].wire); err != nil || !u.Equal(&fixtures[2].msg) {
		t.Fatal("UnmarshalBinary")
	}
}

func TestBlock(t *testing.T) {
	for _, v := range []uint32{0, 0x0e, 0x1e, 0x3fff6, MaxBlockNum<<4 | 0xe} {
		b, err := ParseBlock(v)
		if err != nil || b.Uint() != v {
			t.Fatalf("%#x: %+v %v", v, b, err)
		}
	}
	if _, err := ParseBlock(0x07); err != ErrBlock {
		t.Fatal("SZX 7 accepted")
	}
	if b := (Block{Num: 2, SZX: 6}); b.Size() != 1024 || b.Offset() != 2048 {
		t.Fatal("size/offset")
	}
	for size, want := range map[int]uint8{16: 0, 31: 0, 32: 1, 1024: 6, 4096: 6, 1000: 5} {
		if got := SZXFor(size); got != want {
			t.Fatalf("SZXFor(%d) = %d; want %d", size, got, want)
		}
	}
}

func TestCodeTypeToken(t *testing.T) {
	if Content.String() != "2.05" || GET.String() != "GET" || RequestEntityTooLarge.String() != "4.13" {
		t.Fatal(Content.String(), GET.String())
	}
	if !GET.IsRequest() || Empty.IsRequest() || !NotFound.IsResponse() || !Changed.IsSuccess() {
		t.Fatal("code classes")
	}
	if NewCode(2, 31) != Continue || Continue.Class() != 2 || Continue.Detail() != 31 {
		t.Fatal("NewCode")
	}
	if Reset.String() != "RST" || Type(9).String() != "Type(9)" {
		t.Fatal("type strings")
	}
	if _, ok := TokenFrom(make([]byte, 9)); ok {
		t.Fatal("9-byte token accepted")
	}
	tk := TokenFromUint64(0x0102030405060708)
	if tk.String() != "0102030405060708" || tk.Uint64() != 0x0102030405060708 || tk.Len() != 8 {
		t.Fatal("token")
	}
	m := map[Token]int{tok(1, 2): 1}
	if m[tok(1, 2)] != 1 || m[tok(1, 2, 0)] != 0 {
		t.Fatal("token as map key")
	}
	if !URIPath.Critical() || !URIPath.UnsafeToForward() || !Size1.NoCacheKey() || ETag.Critical() {
		t.Fatal("option classes")
	}
	if URIPath.String() != "Uri-Path" || OptionID(1000).String() != "Option(1000)" || !Echo.Known() || OptionID(65001).Known() {
		t.Fatal("option names")
	}
	// R9: holes and out-of-range numbers in the option table are safe.
	for id := 0; id <= 0xffff; id++ {
		o := OptionID(id)
		_ = o.Format()
		_ = o.ValidLength(3)
	}
	if !NoResponseMask(0x1a).Suppresses(Content) || NoResponseMask(0x02).Suppresses(NotFound) {
		t.Fatal("no-response")
	}
	if AppSenMLJSON.String() != "application/senml+json" || MediaType(9).String() != "MediaType(9)" {
		t.Fatal("media type names")
	}
}

func TestUint(t *testing.T) {
	for _, v := range []uint32{0, 1, 255, 256, 65535, 65536, 1<<24 - 1, 1 << 24, 1<<32 - 1} {
		b := AppendUint(nil, v)
		if got, ok := DecodeUint(b); !ok || got != v {
			t.Fatalf("%d -> % x -> %d", v, b, got)
		}
	}
	if _, ok := DecodeUint(make([]byte, 5)); ok {
		t.Fatal("5-byte uint accepted")
	}
}
