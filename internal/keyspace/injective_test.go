package keyspace_test

import (
	"testing"

	"github.com/shopkit/shopkit/internal/keyspace"
	"github.com/shopkit/shopkit/internal/keyspace/keyspacetest"
)

func TestIDTagInjective(t *testing.T) {
	keyspacetest.Injective(t,
		keyspacetest.Builder{Name: "store", Arity: 0, Keys: func(p string, _ []string) []string { return []string{keyspace.Tag(p)} }},
		keyspacetest.Builder{Name: "one", Arity: 1, Keys: func(p string, ids []string) []string { return []string{keyspace.IDTag(p, ids...)} }},
		keyspacetest.Builder{Name: "two", Arity: 2, Keys: func(p string, ids []string) []string { return []string{keyspace.IDTag(p, ids...)} }},
	)
}

// TestPrefixInsideTagCollides shows why IDTag keeps the prefix outside the
// braces: the search finds the collision of the old "{prefix:id}" form.
func TestPrefixInsideTagCollides(t *testing.T) {
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		keyspacetest.Injective(ft,
			keyspacetest.Builder{Name: "sale", Arity: 1, Keys: func(p string, ids []string) []string { return []string{"{" + p + ":" + ids[0] + "}"} }},
			keyspacetest.Builder{Name: "bucket", Arity: 2, Keys: func(p string, ids []string) []string { return []string{"{" + p + ":" + ids[0] + ":" + ids[1] + "}"} }},
		)
	}()
	if !ft.failed {
		t.Fatal("the search found no collision in the {prefix:id} form")
	}
}

type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Fatalf(string, ...any) { f.failed = true; panic("stop") }
func (f *fatalRecorder) Helper()               {}
