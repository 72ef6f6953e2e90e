package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Scan is one node of a plan that reads a table.
type Scan struct {
	Node     string // "Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan", ...
	Relation string // the table, for the nodes that name one
	Index    string // the index, for the index scans
	// Cond is the index condition: without one, an index scan reads the
	// whole index.
	Cond string
}

// Plan is what PostgreSQL would do for a query.
type Plan struct {
	Scans []Scan
	// Text is the plan as EXPLAIN prints it, for failure messages.
	Text string
}

// Explain returns the generic plan of query as a service sends it: prepared
// with the parameter types PostgreSQL infers from the query itself (as pgx
// does), planned for any value (plan_cache_mode = force_generic_plan), and
// with sequential scans disabled. A sequential scan that remains is one no
// index can replace, such as one filtering on id::text: that asks whether
// the query CAN use its indexes, whatever the test table's size makes the
// planner prefer. args are the values of $1, $2, ... as SQL literals' text
// (they only have to parse as the parameters' types).
func Explain(t testing.TB, pool *pgxpool.Pool, query string, args ...string) Plan {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL plan_cache_mode = force_generic_plan"} {
		if _, err := tx.Exec(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	// Prepared statements outlive transactions: deallocated below.
	if _, err := tx.Exec(ctx, "PREPARE pgtest_explain AS "+query); err != nil {
		t.Fatalf("prepare %s: %v", query, err)
	}
	defer tx.Exec(ctx, "DEALLOCATE pgtest_explain")
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", "''") + "'"
	}
	execute := "EXECUTE pgtest_explain"
	if len(args) > 0 {
		execute += "(" + strings.Join(quoted, ", ") + ")"
	}
	var plan Plan
	var doc []struct{ Plan node }
	if err := tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+execute).Scan(&doc); err != nil || len(doc) != 1 {
		t.Fatalf("explain %s: %v", query, err)
	}
	doc[0].Plan.scans("", &plan.Scans)
	rows, err := tx.Query(ctx, "EXPLAIN "+execute)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan.Text = strings.Join(lines, "\n")
	return plan
}

type node struct {
	NodeType string `json:"Node Type"`
	Relation string `json:"Relation Name"`
	Index    string `json:"Index Name"`
	Cond     string `json:"Index Cond"`
	Plans    []node `json:"Plans"`
}

// scans appends the nodes that read a table or an index; a bitmap index
// scan (which names no table) counts for its bitmap heap scan's table.
func (n node) scans(heap string, out *[]Scan) {
	rel := n.Relation
	if rel == "" && strings.HasPrefix(n.NodeType, "Bitmap Index Scan") {
		rel = heap
	}
	if rel != "" || n.Index != "" {
		*out = append(*out, Scan{Node: n.NodeType, Relation: rel, Index: n.Index, Cond: n.Cond})
	}
	if n.NodeType == "Bitmap Heap Scan" {
		heap = n.Relation
	}
	for _, c := range n.Plans {
		c.scans(heap, out)
	}
}

// UsesIndexes fails the test unless the plan has no sequential scan and no
// scan of a whole index (one without an index condition, as the planner
// picks with sequential scans disabled), and reads each of tables through
// an index. Which index is the planner's choice: it may change with the
// tables' statistics.
func (p Plan) UsesIndexes(t testing.TB, name string, tables ...string) {
	t.Helper()
	var problems []string
	for _, s := range p.Scans {
		if s.Node == "Seq Scan" {
			problems = append(problems, fmt.Sprintf("a sequential scan of %s", s.Relation))
		}
		if s.Index != "" && s.Cond == "" {
			problems = append(problems, fmt.Sprintf("a scan of all of %s", s.Index))
		}
	}
	for _, want := range tables {
		found := false
		for _, s := range p.Scans {
			found = found || s.Relation == want && s.Index != "" && s.Cond != ""
		}
		if !found {
			problems = append(problems, "no index scan of "+want)
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s; plan:\n%s", name, strings.Join(problems, ", "), p.Text)
	}
}
