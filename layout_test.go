package edgekit

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// kernelImports may be imported only by internal/sys (STYLE R2).
var kernelImports = []string{"golang.org/x/sys/unix", "golang.org/x/sys/windows"}

// portable lists the packages that must build under TinyGo on a Cortex-M and
// stay free of sockets, the kernel, reflection and fmt (ARCHITECTURE.md,
// "Floors"). The stacks beside the codecs (mqtt/client, coap/dtls, ...) are
// not covered, but every blemesh sub-package is, except the host-only ones in
// blemeshHostOnly: the mesh layers are what firmware vendors.
var portable = []string{"ringbuf", "mempool", "mqtt", "coap", "blemesh"}

// blemeshHostOnly are the blemesh sub-packages allowed to use the host's
// kernel (the Linux HCI bearer) and so exempt from the portable rules.
var blemeshHostOnly = []string{"blemesh/hci"}

// isPortable reports whether the package at slash path pkg must stay portable.
func isPortable(pkg string) bool {
	for _, p := range portable {
		if pkg == p {
			return true
		}
	}
	if !strings.HasPrefix(pkg, "blemesh/") {
		return false
	}
	for _, h := range blemeshHostOnly {
		if hasPrefixPath(pkg, h) {
			return false
		}
	}
	return true
}

// pionOwner is the one package allowed to import Pion (STYLE, settled
// decisions), so that codec and endpoint users never pull it in.
const pionOwner = "coap/dtls"

// portableDenied are the imports a portable package's non-test files must not use.
var portableDenied = []string{
	"net", "net/http", "os/exec", "reflect", "fmt", "encoding/json",
	"golang.org/x/sys", "github.com/pion", "github.com/cilium",
}

// allowedRequires is the agreed dependency set of the main module.
var allowedRequires = map[string]bool{
	"golang.org/x/sys":              true,
	"github.com/pion/dtls/v3":       true,
	"github.com/klauspost/compress": true,
	"github.com/google/go-cmp":      true,
	"github.com/cilium/ebpf":        true,
}

type goFile struct {
	pkg     string // slash path relative to the module root
	name    string
	test    bool
	imports []string
}

// moduleFiles parses the imports of every Go file that belongs to the main
// module: it skips nested modules (bench/, examples with their own go.mod),
// testdata and directories starting with "_" or ".".
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := d.Name()
			if p != "." && (base == "testdata" || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".")) {
				return filepath.SkipDir
			}
			if p != "." {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if ignored(f) {
			return nil // a generator run with go run, never built into the package
		}
		gf := goFile{pkg: filepath.ToSlash(filepath.Dir(p)), name: filepath.ToSlash(p), test: strings.HasSuffix(p, "_test.go")}
		for _, imp := range f.Imports {
			s, _ := strconv.Unquote(imp.Path.Value)
			gf.imports = append(gf.imports, s)
		}
		files = append(files, gf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("found no Go files; is the test running at the module root?")
	}
	return files
}

// ignored reports whether f is excluded from every build by a
// "//go:build ignore" line, as generators under `go run gen.go` are.
func ignored(f *ast.File) bool {
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if strings.TrimSpace(c.Text) == "//go:build ignore" {
				return true
			}
		}
	}
	return false
}

func hasPrefixPath(imp, prefix string) bool {
	return imp == prefix || strings.HasPrefix(imp, prefix+"/")
}

func TestOnlyInternalSysImportsKernel(t *testing.T) {
	for _, f := range moduleFiles(t) {
		if f.pkg == "internal/sys" {
			continue
		}
		for _, imp := range f.imports {
			for _, k := range kernelImports {
				if hasPrefixPath(imp, k) {
					t.Errorf("%s imports %s; only internal/sys may (STYLE R2)", f.name, imp)
				}
			}
		}
	}
}

func TestOnlyCoAPDTLSImportsPion(t *testing.T) {
	for _, f := range moduleFiles(t) {
		if hasPrefixPath(f.pkg, pionOwner) {
			continue
		}
		for _, imp := range f.imports {
			if hasPrefixPath(imp, "github.com/pion") {
				t.Errorf("%s imports %s; only %s may (STYLE, settled decisions)", f.name, imp, pionOwner)
			}
		}
	}
}

func TestPortablePackagesStayPortable(t *testing.T) {
	for _, f := range moduleFiles(t) {
		if !isPortable(f.pkg) || f.test {
			continue
		}
		for _, imp := range f.imports {
			for _, d := range portableDenied {
				if hasPrefixPath(imp, d) {
					t.Errorf("%s imports %s; portable package %s must not (ARCHITECTURE.md)", f.name, imp, f.pkg)
				}
			}
		}
	}
}

func TestNothingImportsBenchOrExamples(t *testing.T) {
	const mod = "github.com/edgekit/edgekit/"
	for _, f := range moduleFiles(t) {
		for _, imp := range f.imports {
			if hasPrefixPath(imp, mod+"bench") || hasPrefixPath(imp, mod+"examples") {
				t.Errorf("%s imports %s; the main module must not depend on bench/ or examples/", f.name, imp)
			}
			if hasPrefixPath(imp, mod+"internal/testutil") && !f.test {
				t.Errorf("%s imports %s outside a test", f.name, imp)
			}
		}
	}
}

func TestGoModRequires(t *testing.T) {
	fh, err := os.Open("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	inBlock := false
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var mod string
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case inBlock:
			mod = line
		case strings.HasPrefix(line, "require "):
			mod = strings.TrimPrefix(line, "require ")
		case strings.HasPrefix(line, "replace "):
			t.Errorf("go.mod has %q; users vendor this module, so it must not carry replace directives", line)
			continue
		default:
			continue
		}
		fields := strings.Fields(mod)
		if len(fields) == 0 || strings.Contains(mod, "// indirect") {
			continue
		}
		if !allowedRequires[fields[0]] {
			t.Errorf("go.mod requires %s, outside the agreed set; peers belong in bench/go.mod", fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
