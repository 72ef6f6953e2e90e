package store_test

import (
	"testing"
	"time"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
)

func TestWriteAuditMovesLastUsed(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(conn, team string, at time.Time, outcome contract.Outcome) store.AuditEvent {
		return store.AuditEvent{At: at, UserID: storetest.AliceID, TeamID: team, ClientID: "client-1", ConnectionID: conn,
			Tool: "list_invoices", Outcome: outcome, Duration: 1500 * time.Microsecond}
	}
	err := db.Store.WriteAudit(ctx, []store.AuditEvent{
		ev(storetest.AcmeConnection, acmeID, t0.Add(2*time.Second), "ok"),
		ev(storetest.AcmeConnection, acmeID, t0, "denied"),
		ev(storetest.GlobexConnection, globexID, t0.Add(time.Second), "tool_error"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var dur int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), sum(duration_us) FROM audit_events`).Scan(&n, &dur); err != nil || n != 3 || dur != 4500 {
		t.Fatalf("audit_events: %d rows, %d µs (%v); want 3 rows, 4500 µs", n, dur, err)
	}
	lastUsed := func(conn string) time.Time {
		var at time.Time
		if err := db.Pool.QueryRow(ctx, `SELECT last_used_at FROM connections WHERE id = $1`, conn).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	if got := lastUsed(storetest.AcmeConnection); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("acme last used %s, want the latest call", got)
	}
	// An older batch arriving late never moves last used back.
	if err := db.Store.WriteAudit(ctx, []store.AuditEvent{ev(storetest.AcmeConnection, acmeID, t0.Add(-time.Hour), "ok")}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(storetest.AcmeConnection); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("acme last used %s after a late older event", got)
	}
	// A malformed id is refused before it reaches the database.
	bad := ev("not-a-uuid", acmeID, t0, "ok")
	if err := db.Store.WriteAudit(ctx, []store.AuditEvent{bad}); err == nil {
		t.Error("a malformed connection id was written")
	}
}

func TestPruneAudit(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	now := time.Now()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO audit_events (at, user_id, team_id, client_id, connection_id, tool, outcome, duration_us)
		SELECT $1::timestamptz - g * interval '1 day', $2, $3, 'client-1', $4, 'whoami', 'ok', 10 FROM generate_series(0, 99) g`,
		now, storetest.AliceID, acmeID, storetest.AcmeConnection); err != nil {
		t.Fatal(err)
	}
	n, err := db.Store.PruneAudit(ctx, now.Add(-90*24*time.Hour))
	if err != nil || n != 9 { // days 91 to 99
		t.Fatalf("PruneAudit = %d, %v; want the 9 events older than 90 days", n, err)
	}
	var left int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&left)
	if left != 91 {
		t.Errorf("%d events left, want 91", left)
	}
}
