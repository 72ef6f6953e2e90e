package pgtest

import (
	"fmt"
	"strings"
	"testing"
)

// TestExplain: the plan of a lookup that compares its uuid key as text
// shows the sequential scan even on a table too small for the planner to
// prefer the index; the typed comparison reads through the index.
func TestExplain(t *testing.T) {
	pool, _, _ := Schema(t, "pgtest")
	if _, err := pool.Exec(t.Context(), `CREATE TABLE things (id uuid PRIMARY KEY, kind text NOT NULL);
		CREATE INDEX things_kind_idx ON things (kind)`); err != nil {
		t.Fatal(err)
	}
	const id = "00000000-0000-4000-8000-000000000001"

	typed := Explain(t, pool, "SELECT kind FROM things WHERE id = $1", id)
	if len(typed.Scans) != 1 || typed.Scans[0].Index != "things_pkey" || typed.Scans[0].Cond == "" {
		t.Errorf("typed lookup: scans %+v, want one of things_pkey with a condition; plan:\n%s", typed.Scans, typed.Text)
	}
	typed.UsesIndexes(t, "typed lookup", "things")

	ft := &fakeT{TB: t}
	text := Explain(t, pool, "SELECT kind FROM things WHERE id::text = $1", id)
	text.UsesIndexes(ft, "text lookup", "things")
	if !strings.Contains(ft.msg, "a sequential scan of things") || !strings.Contains(ft.msg, "no index scan of things") {
		t.Errorf("text lookup: UsesIndexes said %q; plan:\n%s", ft.msg, text.Text)
	}

	ft = &fakeT{TB: t}
	whole := Explain(t, pool, "SELECT kind FROM things WHERE kind::text || '' = $1", "x")
	whole.UsesIndexes(ft, "whole index")
	if !strings.Contains(ft.msg, "a sequential scan of things") && !strings.Contains(ft.msg, "a scan of all of") {
		t.Errorf("unindexable filter: UsesIndexes said %q; plan:\n%s", ft.msg, whole.Text)
	}
}

// fakeT records an Errorf instead of failing the test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Errorf(format string, args ...any) { f.msg += fmt.Sprintf(format, args...) }
