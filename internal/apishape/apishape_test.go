package apishape

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stateful lists the packages with stores; each must follow the shape.
var stateful = []string{"inventory", "seckill", "pricing", "abtest", "funnel", "routing", "payout", "logistics"}

// pkg is one package's exported API as go/doc sees it.
type pkg struct {
	name  string
	doc   *doc.Package
	fset  *token.FileSet
	types map[string]*doc.Type
	funcs map[string]*doc.Func // every exported func, constructors included
}

func load(t *testing.T, name string) *pkg {
	t.Helper()
	dir := filepath.Join("..", "..", name)
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	d, err := doc.NewFromFiles(fset, files, "github.com/shopkit/shopkit/"+name)
	if err != nil {
		t.Fatal(err)
	}
	p := &pkg{name: name, doc: d, fset: fset, types: map[string]*doc.Type{}, funcs: map[string]*doc.Func{}}
	for _, f := range d.Funcs {
		p.funcs[f.Name] = f
	}
	for _, ty := range d.Types {
		p.types[ty.Name] = ty
		for _, f := range ty.Funcs {
			p.funcs[f.Name] = f
		}
	}
	return p
}

// expr renders a type expression as source.
func expr(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return "*" + expr(e.X)
	case *ast.SelectorExpr:
		return expr(e.X) + "." + e.Sel.Name
	case *ast.ArrayType:
		return "[]" + expr(e.Elt)
	case *ast.Ellipsis:
		return "..." + expr(e.Elt)
	case *ast.MapType:
		return "map[" + expr(e.Key) + "]" + expr(e.Value)
	case *ast.FuncType:
		return "func(" + strings.Join(fieldTypes(e.Params), ", ") + ")"
	}
	return "?"
}

// fieldTypes lists a field list's types, one per name.
func fieldTypes(fl *ast.FieldList) []string {
	if fl == nil {
		return nil
	}
	var out []string
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			out = append(out, expr(f.Type))
		}
	}
	return out
}

// stores returns the store types of p by their constructors: X for every
// NewMemoryX or NewRedisX ("" when the type is the package's Store).
func (p *pkg) stores() []string {
	var xs []string
	for name := range p.funcs {
		for _, pre := range []string{"NewMemory", "NewRedis"} {
			if x, ok := strings.CutPrefix(name, pre); ok && !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
	}
	slices.Sort(xs)
	return xs
}

// TestConstructors checks NewMemoryX(XOptions) *X and
// NewRedisX(client XRedisClient, opts XOptions) (*X, error), where X is
// "Store" when the constructor names no type, and XRedisClient is an
// interface of the package.
func TestConstructors(t *testing.T) {
	for _, name := range stateful {
		p := load(t, name)
		xs := p.stores()
		t.Logf("%s: stores %q", name, xs)
		if len(xs) == 0 {
			t.Errorf("%s: no NewMemoryX or NewRedisX constructor", name)
		}
		for _, x := range xs {
			typ := x
			if typ == "" {
				typ = "Store"
			}
			if p.types[typ] == nil {
				t.Errorf("%s: constructors New…%s make no type %s", name, x, typ)
			}
			if f := p.funcs["NewMemory"+x]; f != nil {
				params, results := fieldTypes(f.Decl.Type.Params), fieldTypes(f.Decl.Type.Results)
				if !slices.Equal(params, []string{x + "Options"}) || !slices.Equal(results, []string{"*" + typ}) {
					t.Errorf("%s.NewMemory%s(%v) %v: want NewMemory%s(%sOptions) *%s", name, x, params, results, x, x, typ)
				}
			}
			if f := p.funcs["NewRedis"+x]; f != nil {
				params, results := fieldTypes(f.Decl.Type.Params), fieldTypes(f.Decl.Type.Results)
				if !slices.Equal(params, []string{x + "RedisClient", x + "Options"}) || !slices.Equal(results, []string{"*" + typ, "error"}) {
					t.Errorf("%s.NewRedis%s(%v) %v: want NewRedis%s(client %sRedisClient, opts %sOptions) (*%s, error)", name, x, params, results, x, x, x, typ)
				}
				if c := p.types[x+"RedisClient"]; c == nil || !isInterface(c) {
					t.Errorf("%s: %sRedisClient is not an interface of the package", name, x)
				}
				if !hasField(p.types[x+"Options"], "Prefix") {
					t.Errorf("%s.%sOptions has no Prefix", name, x)
				}
			} else {
				t.Errorf("%s: NewMemory%s has no NewRedis%s", name, x, x)
			}
			if !hasField(p.types[x+"Options"], "Observer") {
				t.Errorf("%s.%sOptions has no Observer", name, x)
			}
		}
	}
}

// TestObserver checks the one observer shape: type Observer
// func(Observation), and an Observation with Op (a type with String), Err
// and Took.
func TestObserver(t *testing.T) {
	for _, name := range stateful {
		p := load(t, name)
		obs := p.types["Observer"]
		if obs == nil {
			t.Errorf("%s: no Observer type", name)
			continue
		}
		if got := expr(obs.Decl.Specs[0].(*ast.TypeSpec).Type); got != "func(Observation)" {
			t.Errorf("%s.Observer is %s, want func(Observation)", name, got)
		}
		o := p.types["Observation"]
		for _, f := range []string{"Op", "Err", "Took"} {
			if !hasField(o, f) {
				t.Errorf("%s.Observation has no %s", name, f)
			}
		}
		if op := p.types["Op"]; op == nil || !slices.ContainsFunc(op.Methods, func(m *doc.Func) bool { return m.Name == "String" }) {
			t.Errorf("%s: no Op type with a String method", name)
		}
	}
}

// TestRequests checks that no exported method of a store type takes more
// than one string or any bool: several IDs go in a request struct.
func TestRequests(t *testing.T) {
	for _, name := range stateful {
		p := load(t, name)
		for _, x := range p.stores() {
			typ := x
			if typ == "" {
				typ = "Store"
			}
			ty := p.types[typ]
			if ty == nil {
				continue
			}
			for _, m := range ty.Methods {
				params := fieldTypes(m.Decl.Type.Params)
				strs := 0
				for _, p := range params {
					if p == "string" || p == "...string" {
						strs++
					}
					if p == "bool" {
						t.Errorf("%s.%s.%s takes a bool: use a request struct", name, typ, m.Name)
					}
				}
				if strs > 1 {
					t.Errorf("%s.%s.%s(%v) takes %d strings: use a request struct", name, typ, m.Name, params, strs)
				}
			}
		}
	}
}

// TestErrors checks the shared vocabulary: every stateful package has
// ErrInvalidInput or an InputError, and the packages whose calls are
// idempotent by ID say ErrIDConflict and ErrNotFound.
func TestErrors(t *testing.T) {
	for _, name := range stateful {
		p := load(t, name)
		vars := map[string]bool{}
		for _, v := range p.doc.Vars {
			for _, n := range v.Names {
				vars[n] = true
			}
		}
		for _, ty := range p.doc.Types {
			for _, v := range ty.Vars {
				for _, n := range v.Names {
					vars[n] = true
				}
			}
		}
		if p.types["InputError"] == nil {
			t.Errorf("%s: no InputError", name)
		}
		for _, want := range []string{"ErrInvalidInput", "ErrIDConflict"} {
			if !vars[want] && name != "abtest" && name != "funnel" {
				t.Errorf("%s: no %s", name, want)
			}
		}
		for _, old := range []string{"ErrOrderConflict", "ErrUnknownRedemption", "ErrUnknownOrder"} {
			if vars[old] {
				t.Errorf("%s: %s should be ErrIDConflict or ErrNotFound", name, old)
			}
		}
	}
}

func isInterface(ty *doc.Type) bool {
	_, ok := ty.Decl.Specs[0].(*ast.TypeSpec).Type.(*ast.InterfaceType)
	return ok
}

func hasField(ty *doc.Type, name string) bool {
	if ty == nil {
		return false
	}
	st, ok := ty.Decl.Specs[0].(*ast.TypeSpec).Type.(*ast.StructType)
	if !ok {
		return false
	}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

// TestExamplesImportNoInternal: a program copied out of examples/ must
// build outside this module, so it imports no internal package (only
// examples/exampleredis, which is public, may use them).
func TestExamplesImportNoInternal(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files found: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || filepath.Base(filepath.Dir(name)) == "exampleredis" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if strings.Contains(imp.Path.Value, "/internal/") {
				t.Errorf("%s imports %s", name, imp.Path.Value)
			}
		}
	}
}
