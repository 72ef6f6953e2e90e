package pgtest

import (
	"context"
	"testing"
)

func TestSchema(t *testing.T) {
	pool, _, schema := Schema(t, "pgtest")
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var where string
	if err := pool.QueryRow(ctx, "SELECT table_schema FROM information_schema.tables WHERE table_name = 't'").Scan(&where); err != nil || where != schema {
		t.Errorf("the table landed in %q (%v), want the test's schema %q", where, err, schema)
	}
}
