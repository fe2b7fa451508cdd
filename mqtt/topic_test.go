package mqtt

import (
	"sort"
	"testing"
)

var topicCases = []struct {
	filter, topic string
	match         bool
}{
	{"a/b/c", "a/b/c", true},
	{"a/b/c", "a/b", false},
	{"a/b", "a/b/c", false},
	{"a/+/c", "a/b/c", true},
	{"a/+/c", "a/b/d", false},
	{"a/+", "a/", true}, // '+' matches an empty level
	{"a/+", "a", false},
	{"+/+", "/", true},
	{"+", "/", false},
	{"/+", "/x", true},
	{"a/#", "a", true}, // '#' matches the parent (§4.7.1.2)
	{"a/#", "a/b/c", true},
	{"a/#", "ab", false},
	{"#", "a/b", true},
	{"#", "/", true},
	{"+/#", "a", true},
	{"sport/tennis/+", "sport/tennis/player1", true},
	{"sport/tennis/+", "sport/tennis/player1/ranking", false},
	{"sport/+", "sport", false},
	{"#", "$SYS/x", false}, // [MQTT-4.7.2-1]
	{"+/monitor/Clients", "$SYS/monitor/Clients", false},
	{"$SYS/#", "$SYS/monitor/Clients", true},
	{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
	{"a/$x", "a/$x", true},
	{"+/$x", "a/$x", true},
	{"ü/+", "ü/ß", true},
	{"a//b", "a//b", true},
	{"a/+/b", "a//b", true},
}

func TestMatchTopic(t *testing.T) {
	for _, c := range topicCases {
		if err := CheckTopicFilter([]byte(c.filter)); err != nil {
			t.Errorf("CheckTopicFilter(%q) = %v", c.filter, err)
		}
		if err := CheckTopicName([]byte(c.topic)); err != nil {
			t.Errorf("CheckTopicName(%q) = %v", c.topic, err)
		}
		if got := MatchTopic([]byte(c.filter), []byte(c.topic)); got != c.match {
			t.Errorf("MatchTopic(%q, %q) = %v; want %v", c.filter, c.topic, got, c.match)
		}
	}
}

func TestCheckTopic(t *testing.T) {
	for _, c := range []struct {
		filter string
		want   error
	}{
		{"a/#/b", errFilterSyntax}, {"a#", errFilterSyntax}, {"#/", errFilterSyntax},
		{"a+", errFilterPlus}, {"+a/b", errFilterPlus}, {"", errTopicEmpty},
		{"a\x00", errNullChar}, {"\xff", errBadUTF8},
		{"$share/g", errShareFilter}, {"$share/g/", errShareFilter}, {"$share/", errShareName},
		{"$share//a", errShareName}, {"$share/a#/b", errShareName}, {"$share/g/a/#/x", errFilterSyntax},
		{"$share/g/+/x/#", nil}, {"$shared/a", nil}, {"/", nil}, {"+", nil}, {"#", nil}, {"+/+/#", nil},
	} {
		if err := CheckTopicFilter([]byte(c.filter)); err != c.want {
			t.Errorf("CheckTopicFilter(%q) = %v; want %v", c.filter, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		want error
	}{
		{"a/+", errTopicWildcard}, {"#", errTopicWildcard}, {"", errTopicEmpty}, {"a\x00", errNullChar},
		{"\xed\xa0\x80", errBadUTF8}, {"\xef\xbb\xbfa", nil}, {"$SYS/x", nil}, {"/", nil},
	} {
		if err := CheckTopicName([]byte(c.name)); err != c.want {
			t.Errorf("CheckTopicName(%q) = %v; want %v", c.name, err, c.want)
		}
	}
	g, f, err := ParseShared([]byte("$share/grp/a/+"))
	if err != nil || string(g) != "grp" || string(f) != "a/+" {
		t.Errorf("ParseShared = %q, %q, %v", g, f, err)
	}
	if g, f, err := ParseShared([]byte("a/b")); g != nil || string(f) != "a/b" || err != nil {
		t.Errorf("ParseShared(non-shared) = %q, %q, %v", g, f, err)
	}
}

func TestTrie(t *testing.T) {
	var tr Trie[string]
	subs := []struct{ filter, id string }{
		{"a/b/c", "exact"}, {"a/+/c", "plus"}, {"a/#", "hash"}, {"#", "all"},
		{"+/b/+", "plus2"}, {"$SYS/#", "sys"}, {"$share/g1/a/b/c", "shared"}, {"a/b/c", "exact2"},
		{"+/+/+/+", "deep"},
	}
	for _, s := range subs {
		if err := tr.Add([]byte(s.filter), s.id); err != nil {
			t.Fatalf("Add(%q): %v", s.filter, err)
		}
	}
	if err := tr.Add([]byte("a/#/b"), "bad"); err != errFilterSyntax {
		t.Fatalf("Add(bad) = %v", err)
	}
	if tr.Len() != len(subs) {
		t.Fatalf("Len = %d", tr.Len())
	}
	check := func(topic string, want ...string) {
		t.Helper()
		got := tr.Match([]byte(topic), nil)
		sort.Strings(got)
		sort.Strings(want)
		if len(got) != len(want) {
			t.Errorf("Match(%q) = %v; want %v", topic, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Match(%q) = %v; want %v", topic, got, want)
				return
			}
		}
	}
	check("a/b/c", "exact", "exact2", "plus", "hash", "all", "plus2", "shared")
	check("a", "hash", "all")
	check("a/x/c", "plus", "hash", "all")
	check("x/b/y", "all", "plus2")
	check("$SYS/broker/load", "sys")
	check("$SYS", "sys")
	check("w/x/y/z", "all", "deep")
	if !tr.Remove([]byte("a/b/c"), "exact") || tr.Remove([]byte("a/b/c"), "exact") {
		t.Fatal("Remove exact")
	}
	if !tr.Remove([]byte("$share/g1/a/b/c"), "shared") || !tr.Remove([]byte("a/#"), "hash") || !tr.Remove([]byte("a/+/c"), "plus") {
		t.Fatal("Remove")
	}
	if tr.Remove([]byte("a/+/c"), "plus") || tr.Remove([]byte("q/r"), "x") || tr.Remove([]byte("$share/"), "x") {
		t.Fatal("Remove of a missing value succeeded")
	}
	check("a/b/c", "exact2", "all", "plus2")
	for _, s := range []struct{ f, id string }{{"a/b/c", "exact2"}, {"#", "all"}, {"+/b/+", "plus2"}, {"$SYS/#", "sys"}, {"+/+/+/+", "deep"}} {
		if !tr.Remove([]byte(s.f), s.id) {
			t.Fatalf("Remove(%q)", s.f)
		}
	}
	if tr.Len() != 0 || len(tr.root.children) != 0 || tr.root.plus != nil || len(tr.root.hash) != 0 {
		t.Fatalf("trie not empty after removing everything: %+v", tr.root)
	}
}

// refScan is scanTopic one byte at a time.
func refScan(b []byte) uint8 {
	var acc uint8
	for _, c := range b {
		acc |= topicClass[c]
	}
	return acc &^ cSlash
}

// TestScanTopic checks the eight-bytes-at-a-time scan against the plain
// loop, for every special byte at every position of a 17-byte name.
func TestScanTopic(t *testing.T) {
	base := []byte("abcdefgh/ijklmno/")
	for _, c := range []byte{0, '+', '#', 0x80, 0xc3, 0xff, 0x7f, 0x01, '/', 0x2a, 0x22, 0x2c} {
		for i := range base {
			b := append([]byte(nil), base...)
			b[i] = c
			for n := 0; n <= len(b); n++ {
				if got, want := scanTopic(b[:n]), refScan(b[:n]); got != want {
					t.Fatalf("scanTopic(% x) = %#x; want %#x", b[:n], got, want)
				}
			}
		}
	}
}

// TestFilterVersions checks "$share/..." is only special under MQTT 5.
func TestFilterVersions(t *testing.T) {
	for _, f := range []string{"$share//a", "$share/g", "$share/+/a"} {
		if CheckTopicFilterV([]byte(f), V311) != nil || CheckTopicFilterV([]byte(f), V5) == nil {
			t.Errorf("%q: 3.1.1 %v, 5 %v", f, CheckTopicFilterV([]byte(f), V311), CheckTopicFilterV([]byte(f), V5))
		}
	}
	if CheckTopicFilterV([]byte("$share/g/a/#/b"), V311) == nil {
		t.Error("3.1.1 still checks wildcard placement")
	}
}
