//go:build !tinygo

package blemesh_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// This file is the data-driven runner of the specification's sample data
// (schema edgekit-blemesh-sample-data/1, see testdata and SCHEMA.md).
//
// Checkers register per kind with register (from init functions in any
// _test.go file of package blemesh_test). A checker reads its sample only
// through the checkCtx accessors, which mark each field consumed; after the
// checker returns, any leaf of inputs or expected that was not consumed
// fails the test, as does a kind without a checker.
//
// Behaviour checks that need several samples register with
// registerBehaviour; they run after the per-sample checks and are skipped
// (with a log line) only when the samples they need are absent from the file.

// sample is one entry of samples[].
type sample struct {
	ID           string         `json:"id"`
	Kind         string         `json:"kind"`
	Spec         map[string]any `json:"spec"`
	MeshVersion  string         `json:"mesh_version"`
	Title        string         `json:"title"`
	Notes        string         `json:"notes"`
	Inputs       map[string]any `json:"inputs"`
	Expected     map[string]any `json:"expected"`
	Intermediate map[string]any `json:"intermediate"`
	Superseded   bool           `json:"superseded"`
	CrossChecked any            `json:"cross_checked_with"`

	orderKey string // key of this sample's object in keyOrder
	loadErr  string // why this sample could not be read (it then fails)
}

// sampleKeys are the top-level keys of a sample the schema allows; fileKeys
// those of the file. Anything else fails: a key the runner does not know
// could change the meaning of the sample.
var (
	sampleKeys = map[string]bool{"id": true, "kind": true, "spec": true, "mesh_version": true, "title": true, "notes": true,
		"inputs": true, "expected": true, "intermediate": true, "superseded": true, "cross_checked_with": true}
	fileKeys = map[string]bool{"schema": true, "generated_by": true, "note": true, "notes": true,
		"source": true, "conventions": true, "spec_typos": true, "samples": true}
)

type sampleFile struct {
	Schema  string    `json:"schema"`
	Samples []*sample `json:"samples"`

	loadErrs []string // file-level problems (unknown keys); reported by runSamples
}

// keyOrder records, for every JSON object of the file, its keys in file
// order (encoding/json maps lose it). Paths look like
// "samples[3].inputs.control.fields".
var keyOrder = map[string][]string{}

func recordKeyOrder(b []byte, prefix string) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				var keys []string
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						return err
					}
					k := kt.(string)
					keys = append(keys, k)
					p := path + "." + k
					if err := walk(p); err != nil {
						return err
					}
				}
				keyOrder[path] = keys
				_, err = dec.Token() // '}'
				return err
			case '[':
				for i := 0; dec.More(); i++ {
					if err := walk(path + "[" + strconv.Itoa(i) + "]"); err != nil {
						return err
					}
				}
				_, err = dec.Token() // ']'
				return err
			}
		}
		return nil
	}
	return walk(prefix)
}

// orderedKeys returns the keys of the object at path of the current
// sample in file order.
func (c *checkCtx) orderedKeys(path string) []string {
	return keyOrder[c.s.orderKey+"."+path]
}

type checkerFunc func(c *checkCtx, s *sample)

var (
	checkers   = map[string]checkerFunc{}
	behaviours []behaviour
)

type behaviour struct {
	name  string
	needs []string // sample ids
	fn    func(c *suiteCtx)
}

// register installs the checker of a sample kind. Call it from init.
func register(kind string, fn func(c *checkCtx, s *sample)) {
	if _, dup := checkers[kind]; dup {
		panic("blemesh samples: kind registered twice: " + kind)
	}
	checkers[kind] = fn
}

// registerBehaviour installs a multi-sample behaviour check that runs when
// every sample id in needs is present. Call it from init.
func registerBehaviour(name string, needs []string, fn func(c *suiteCtx)) {
	behaviours = append(behaviours, behaviour{name, needs, fn})
}

// counter is shared by the per-sample and behaviour contexts.
type counter struct{ passed, failed int }

// checkCtx is handed to a checker for one sample.
type checkCtx struct {
	t     *testing.T
	s     *sample
	index int // position in samples[]
	used  map[string]bool
	n     *counter
}

// suiteCtx is handed to a behaviour check.
type suiteCtx struct {
	t    *testing.T
	all  []*sample
	byID map[string]*sample
	n    *counter
}

// Sample returns a sample by id for a behaviour check, as a checkCtx whose
// accessors do not enforce consumption (the per-sample checker did that).
func (c *suiteCtx) Sample(id string) *checkCtx {
	s := c.byID[id]
	if s == nil {
		c.t.Fatalf("behaviour: sample %s missing", id)
	}
	idx := 0
	for i, x := range c.all {
		if x == s {
			idx = i
		}
	}
	return &checkCtx{t: c.t, s: s, index: idx, used: map[string]bool{}, n: c.n}
}

// Has reports whether the file holds a sample with this id.
func (c *suiteCtx) Has(id string) bool { return c.byID[id] != nil }

// Check counts one passed or failed behaviour assertion.
func (c *suiteCtx) Check(ok bool, format string, args ...any) {
	c.t.Helper()
	if ok {
		c.n.passed++
		return
	}
	c.n.failed++
	c.t.Errorf("behaviour: "+format, args...)
}

// Fatalf stops the behaviour check.
func (c *suiteCtx) Fatalf(format string, args ...any) {
	c.t.Helper()
	c.n.failed++
	c.t.Fatalf("behaviour: "+format, args...)
}

// Logf logs.
func (c *suiteCtx) Logf(format string, args ...any) { c.t.Helper(); c.t.Logf(format, args...) }

// ---- field access ----

type pathSeg struct {
	key   string
	index int // -1 if none
}

func parsePath(p string) []pathSeg {
	var segs []pathSeg
	for _, part := range strings.Split(p, ".") {
		for part != "" {
			if i := strings.IndexByte(part, '['); i >= 0 {
				if i > 0 {
					segs = append(segs, pathSeg{part[:i], -1})
				}
				j := strings.IndexByte(part, ']')
				n, _ := strconv.Atoi(part[i+1 : j])
				segs = append(segs, pathSeg{"", n})
				part = part[j+1:]
			} else {
				segs = append(segs, pathSeg{part, -1})
				part = ""
			}
		}
	}
	return segs
}

func (c *checkCtx) root() map[string]any {
	return map[string]any{"inputs": c.s.Inputs, "expected": c.s.Expected}
}

func lookup(root any, path string) (any, bool) {
	v := root
	for _, sg := range parsePath(path) {
		if sg.index >= 0 {
			a, ok := v.([]any)
			if !ok || sg.index >= len(a) {
				return nil, false
			}
			v = a[sg.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[sg.key]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// markAll marks path and every leaf below it consumed.
func (c *checkCtx) markAll(path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			c.used[path] = true
		}
		for k, e := range x {
			c.markAll(path+"."+k, e)
		}
	case []any:
		if len(x) == 0 {
			c.used[path] = true
		}
		for i, e := range x {
			c.markAll(path+"["+strconv.Itoa(i)+"]", e)
		}
	default:
		c.used[path] = true
	}
}

// Id returns the sample id.
func (c *checkCtx) ID() string { return c.s.ID }

// Has reports whether path exists (it does not consume it).
func (c *checkCtx) has(path string) bool {
	_, ok := lookup(c.root(), path)
	return ok
}

// value returns the raw JSON value at path and marks it (and everything
// below it) consumed. It fails the test when path is missing.
func (c *checkCtx) value(path string) any {
	c.t.Helper()
	v, ok := lookup(c.root(), path)
	if !ok {
		c.t.Fatalf("sample %s: missing field %s", c.s.ID, path)
	}
	c.markAll(path, v)
	return v
}

// consume marks path consumed without checking it (prose fields such as
// opcode_name). Missing paths are ignored.
func (c *checkCtx) consume(paths ...string) {
	for _, p := range paths {
		if v, ok := lookup(c.root(), p); ok {
			c.markAll(p, v)
		}
	}
}

// keys returns the keys of the object at path (not consuming anything).
func (c *checkCtx) keys(path string) []string {
	v, ok := lookup(c.root(), path)
	if !ok {
		return nil
	}
	m, _ := v.(map[string]any)
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// length returns the length of the array at path, 0 if absent.
func (c *checkCtx) length(path string) int {
	v, _ := lookup(c.root(), path)
	a, _ := v.([]any)
	return len(a)
}

// str returns the string at path, consumed.
func (c *checkCtx) str(path string) string {
	c.t.Helper()
	s, ok := c.value(path).(string)
	if !ok {
		c.t.Fatalf("sample %s: %s is not a string", c.s.ID, path)
	}
	return s
}

// hex returns the hex string at path decoded, consumed.
func (c *checkCtx) hex(path string) []byte {
	c.t.Helper()
	s := c.str(path)
	b, err := hex.DecodeString(s)
	if err != nil {
		c.t.Fatalf("sample %s: %s: %v", c.s.ID, path, err)
	}
	return b
}

// key16 returns the 16-octet hex value at path, consumed.
func (c *checkCtx) key16(path string) [16]byte {
	c.t.Helper()
	b := c.hex(path)
	var k [16]byte
	if len(b) != 16 {
		c.t.Fatalf("sample %s: %s has %d octets; want 16", c.s.ID, path, len(b))
	}
	copy(k[:], b)
	return k
}

// uint returns the hex number at path (addresses, SEQ, IV Index, key
// indexes), consumed.
func (c *checkCtx) uint(path string) uint64 {
	c.t.Helper()
	s := c.str(path)
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		c.t.Fatalf("sample %s: %s: %v", c.s.ID, path, err)
	}
	return v
}

// int returns the JSON integer at path, consumed.
func (c *checkCtx) int(path string) int {
	c.t.Helper()
	f, ok := c.value(path).(float64)
	if !ok || f != math.Trunc(f) {
		c.t.Fatalf("sample %s: %s is not an integer", c.s.ID, path)
	}
	return int(f)
}

// pass counts a passed check; fail records a failed one.
func (c *checkCtx) pass() { c.n.passed++ }

func (c *checkCtx) errorf(format string, args ...any) {
	c.t.Helper()
	c.n.failed++
	c.t.Errorf("sample %s: "+format, append([]any{c.s.ID}, args...)...)
}

// fatalf stops the checker of this sample.
func (c *checkCtx) fatalf(format string, args ...any) {
	c.t.Helper()
	c.n.failed++
	c.t.Fatalf("sample %s: "+format, append([]any{c.s.ID}, args...)...)
}

// check counts a check that passed when ok, else fails with the message.
func (c *checkCtx) check(ok bool, format string, args ...any) {
	c.t.Helper()
	if ok {
		c.pass()
	} else {
		c.errorf(format, args...)
	}
}

// expectHex compares got with the hex string at path (consumed).
func (c *checkCtx) expectHex(path string, got []byte) {
	c.t.Helper()
	want := strings.ToLower(c.str(path))
	c.check(hex.EncodeToString(got) == want, "%s = %x; want %s", path, got, want)
}

// expectUint compares got with the hex number at path (consumed).
func (c *checkCtx) expectUint(path string, got uint64) {
	c.t.Helper()
	want := c.uint(path)
	c.check(got == want, "%s = %#x; want %#x", path, got, want)
}

// expectBytes compares two byte strings that both come from the sample or
// the implementation (for decode-direction checks).
func (c *checkCtx) expectBytes(what string, got, want []byte) {
	c.t.Helper()
	c.check(string(got) == string(want), "%s = %x; want %x", what, got, want)
}

// unconsumed lists the leaves of inputs and expected nobody consumed.
func (c *checkCtx) unconsumed() []string {
	all := &checkCtx{used: map[string]bool{}}
	all.markAll("inputs", c.s.Inputs)
	all.markAll("expected", c.s.Expected)
	var out []string
	for p := range all.used {
		if !c.used[p] && !c.coveredByPrefix(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (c *checkCtx) coveredByPrefix(p string) bool {
	for q := range c.used {
		if strings.HasPrefix(p, q+".") || strings.HasPrefix(p, q+"[") {
			return true
		}
	}
	return false
}

func samplesPath() string {
	if p := os.Getenv("EDGEKIT_BLEMESH_SAMPLES"); p != "" {
		return p
	}
	return filepath.Join("testdata", "spec-sample-data.json")
}

func loadSamples(t *testing.T, p string) *sampleFile {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("sample data: %v", err)
	}
	f, err := parseSampleFile(b, p)
	if err != nil {
		t.Fatalf("sample data %s: %v", p, err)
	}
	return f
}

// parseSampleFile reads a sample file. Problems that concern one sample
// (unknown or mistyped keys) are recorded on that sample, file-level ones
// in loadErrs, so that the runner fails them and still runs the rest.
func parseSampleFile(b []byte, p string) (*sampleFile, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	f := &sampleFile{}
	var tkeys []string
	for k := range top {
		tkeys = append(tkeys, k)
	}
	sort.Strings(tkeys)
	for _, k := range tkeys {
		if !fileKeys[k] {
			f.loadErrs = append(f.loadErrs, "unknown top-level key "+strconv.Quote(k))
		}
	}
	if err := json.Unmarshal(top["schema"], &f.Schema); err != nil {
		return nil, errors.New("schema: " + err.Error())
	}
	if !strings.HasPrefix(f.Schema, "edgekit-blemesh-sample-data/") {
		return nil, errors.New("schema " + strconv.Quote(f.Schema))
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(top["samples"], &raws); err != nil {
		return nil, errors.New("samples: " + err.Error())
	}
	if err := recordKeyOrder(b, p); err != nil {
		return nil, err
	}
	for i, raw := range raws {
		s := &sample{orderKey: p + ".samples[" + strconv.Itoa(i) + "]"}
		var ks []string
		for k := range raw {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		var problems []string
		for _, k := range ks {
			if !sampleKeys[k] {
				problems = append(problems, "unknown sample key "+strconv.Quote(k))
			}
		}
		one, _ := json.Marshal(raw)
		if err := json.Unmarshal(one, s); err != nil {
			problems = append(problems, "cannot read the sample: "+err.Error())
			// Keep id and kind if they can be read, for the report.
			var idk struct{ ID, Kind any }
			_ = json.Unmarshal(one, &idk)
			s.ID, _ = idk.ID.(string)
			s.Kind, _ = idk.Kind.(string)
		}
		if s.ID == "" {
			s.ID = "samples[" + strconv.Itoa(i) + "]"
			problems = append(problems, "no id")
		}
		for _, req := range []string{"kind", "inputs", "expected"} {
			if _, ok := raw[req]; !ok {
				problems = append(problems, "no "+req)
			}
		}
		s.loadErr = strings.Join(problems, "; ")
		f.Samples = append(f.Samples, s)
	}
	return f, nil
}

// TestSpecSampleData runs every sample through the checker of its kind,
// then the behaviour checks.
func TestSpecSampleData(t *testing.T) { runSampleFile(t, samplesPath()) }

// TestCrossCheckSampleData runs testdata/crosscheck-samples.json (more
// section 8 messages, values as printed by BlueZ's unit tests) through the
// same runner.
// The mesh_message samples of the specification file are added, so that the
// behaviour checks see msg-06 ... msg-24 together.
func TestCrossCheckSampleData(t *testing.T) {
	f := loadSamples(t, filepath.Join("testdata", "crosscheck-samples.json"))
	spec := loadSamples(t, filepath.Join("testdata", "spec-sample-data.json"))
	have := map[string]bool{}
	for _, s := range f.Samples {
		have[s.ID] = true
	}
	for _, s := range spec.Samples {
		if s.Kind == "mesh_message" && !have[s.ID] {
			f.Samples = append(f.Samples, s)
		}
	}
	res := runSamples(t, f)
	// Every behaviour of SCHEMA.md must run in CI: the specification file
	// lacks some of the samples they need, this merged set has them all.
	for _, b := range res.skipped {
		t.Errorf("behaviour %s did not run on the cross-check data", b)
	}
}

func runSampleFile(t *testing.T, path string) { runSamples(t, loadSamples(t, path)) }

// runResult is what runSamples did.
type runResult struct {
	passed, failed int
	skipped        []string // behaviours not run for lack of samples
	ran            []string // behaviours run
}

func runSamples(t *testing.T, f *sampleFile) runResult {
	var n counter
	var res runResult
	for _, e := range f.loadErrs {
		n.failed++
		t.Errorf("sample file: %s", e)
	}
	byID := map[string]*sample{}
	for _, s := range f.Samples {
		if byID[s.ID] != nil {
			n.failed++
			t.Errorf("duplicate sample id %s", s.ID)
		}
		byID[s.ID] = s
	}
	for i, s := range f.Samples {
		i, s := i, s
		t.Run(s.ID, func(t *testing.T) {
			if s.loadErr != "" {
				n.failed++
				t.Fatalf("sample %s: %s", s.ID, s.loadErr)
			}
			fn := checkers[s.Kind]
			if fn == nil {
				n.failed++
				t.Fatalf("sample %s: no checker for kind %q", s.ID, s.Kind)
			}
			c := &checkCtx{t: t, s: s, index: i, used: map[string]bool{}, n: &n}
			before := n.passed
			if !runGuarded(t, &n, "sample "+s.ID, func() { fn(c, s) }) {
				return
			}
			for _, p := range c.unconsumed() {
				n.failed++
				t.Errorf("sample %s (%s): field %s was not checked", s.ID, s.Kind, p)
			}
			if n.passed == before {
				n.failed++
				t.Errorf("sample %s: checker made no checks", s.ID)
			}
		})
	}
	for _, b := range behaviours {
		b := b
		missing := ""
		for _, id := range b.needs {
			if byID[id] == nil {
				missing = id
				break
			}
		}
		if missing != "" {
			res.skipped = append(res.skipped, b.name)
			t.Logf("behaviour %s: not run against this file, sample %s is not in it (TestCrossCheckSampleData runs it)", b.name, missing)
			continue
		}
		res.ran = append(res.ran, b.name)
		t.Run("behaviour/"+b.name, func(t *testing.T) {
			before := n.passed
			if !runGuarded(t, &n, "behaviour "+b.name, func() { b.fn(&suiteCtx{t: t, all: f.Samples, byID: byID, n: &n}) }) {
				return
			}
			if n.passed == before {
				n.failed++
				t.Errorf("behaviour %s made no checks", b.name)
			}
		})
	}
	res.passed, res.failed = n.passed, n.failed
	t.Logf("blemesh sample data: %d samples, %d checks passed", len(f.Samples), n.passed)
	return res
}

// runGuarded runs fn and turns a panic into a failure of the current
// (sub)test, so that one bad sample cannot kill the run. It reports
// whether fn returned normally.
func runGuarded(t *testing.T, n *counter, what string, fn func()) (ok bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			n.failed++
			t.Errorf("%s: panic: %v", what, r)
			ok = false
		}
	}()
	fn()
	return true
}

// peekStr returns the string at path without consuming it; a missing or
// non-string value stops the sample with a clear message.
func (c *checkCtx) peekStr(path string) string {
	c.t.Helper()
	v, ok := lookup(c.root(), path)
	if !ok {
		c.fatalf("missing field %s", path)
	}
	s, isStr := v.(string)
	if !isStr {
		c.fatalf("%s is a %T, not a string", path, v)
	}
	return s
}
