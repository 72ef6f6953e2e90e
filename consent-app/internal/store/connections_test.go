package store_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/store/storetest"
)

var (
	alice = demo.Alice.Email // acme owner, globex member
	bob   = demo.Bob.Email   // globex admin
	carol = demo.Carol.Email // no team
)

func ids(views []store.ConnectionView) []string {
	var out []string
	for _, v := range views {
		out = append(out, v.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestVisibility checks the one rule: a connection is visible to its user
// and to its team's owners and admins, and to nobody else — not even with
// its id in hand.
func TestVisibility(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	aliceAcme := db.Connect(t, alice, "acme", "client-a", "invoices:read")
	aliceGlobex := db.Connect(t, alice, "globex", "client-a", "invoices:read")
	bobGlobex := db.Connect(t, bob, "globex", "client-b")

	if got := mustList(t)(db.Store.UserConnections(ctx, db.Users[alice])); !slices.Equal(ids(got), sorted(aliceAcme, aliceGlobex)) {
		t.Errorf("alice's connections %v", ids(got))
	}
	// bob administers globex: he sees alice's connection there, not her acme one.
	if got := mustList(t)(db.Store.TeamConnections(ctx, db.Users[bob], db.Teams["globex"])); !slices.Equal(ids(got), sorted(aliceGlobex, bobGlobex)) {
		t.Errorf("globex connections for bob %v", ids(got))
	}
	// alice is a plain member of globex: the team view is not hers.
	if _, err := db.Store.TeamConnections(ctx, db.Users[alice], db.Teams["globex"]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice lists globex's connections: %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		viewer, conn string
		visible      bool
	}{
		{alice, aliceAcme, true},
		{alice, aliceGlobex, true},
		{alice, bobGlobex, false}, // a member does not see another member's
		{bob, aliceGlobex, true},  // an admin sees the team's
		{bob, aliceAcme, false},   // but not another team's
		{carol, aliceAcme, false},
		{alice, "00000000-0000-0000-0000-000000000000", false},
		{alice, "not-a-uuid", false},
		{alice, aliceAcme + "' OR '1'='1", false},
	} {
		_, err := db.Store.VisibleConnection(ctx, db.Users[tt.viewer], tt.conn)
		if tt.visible && err != nil || !tt.visible && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s sees %s: %v, want visible=%v", tt.viewer, tt.conn, err, tt.visible)
		}
		_, err = db.Store.RevokeVisibleConnection(ctx, db.Users[tt.viewer], tt.conn)
		if !tt.visible && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s revokes %s: %v, want ErrNotFound", tt.viewer, tt.conn, err)
		}
	}
	if db.Revoked(t, bobGlobex) {
		t.Fatal("alice revoked bob's connection")
	}
	if !db.Revoked(t, aliceGlobex) || !db.Revoked(t, aliceAcme) {
		t.Error("the visible revocations did not revoke")
	}
	// Revoking again returns nothing new and no error.
	if again, err := db.Store.RevokeVisibleConnection(ctx, db.Users[alice], aliceAcme); err != nil || len(again) != 0 {
		t.Errorf("second revoke: %v, %v", again, err)
	}
	// Lists show live connections only; the revoked one stays readable.
	if got := mustList(t)(db.Store.UserConnections(ctx, db.Users[alice])); len(got) != 0 {
		t.Errorf("alice still lists %v", ids(got))
	}
	if v, err := db.Store.VisibleConnection(ctx, db.Users[alice], aliceAcme); err != nil || v.RevokedAt == nil || v.TeamName != "Acme Corp" || v.UserEmail != alice {
		t.Errorf("revoked connection view %+v, %v", v, err)
	}
}

func mustList(t *testing.T) func([]store.ConnectionView, error) []store.ConnectionView {
	return func(v []store.ConnectionView, err error) []store.ConnectionView {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// listen returns the ids notified on channel connection_changed in db's
// database after it was called. Other tests share the database, so callers
// look for their own ids.
func listen(t *testing.T) func(want ...string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(t.Context(), "LISTEN "+contract.ConnectionChanged); err != nil {
		t.Fatal(err)
	}
	return func(want ...string) {
		t.Helper()
		pending := slices.Clone(want)
		deadline, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		for len(pending) > 0 {
			n, err := conn.WaitForNotification(deadline)
			if err != nil {
				t.Fatalf("notifications for %v never came: %v", pending, err)
			}
			pending = slices.DeleteFunc(pending, func(id string) bool { return id == n.Payload })
		}
	}
}

func TestRevocationNotifies(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	notified := listen(t)
	one := db.Connect(t, alice, "acme", "client-n")
	two := db.Connect(t, alice, "globex", "client-n")
	three := db.Connect(t, bob, "globex", "client-n")
	if _, err := db.Store.RevokeVisibleConnection(ctx, db.Users[alice], one); err != nil {
		t.Fatal(err)
	}
	notified(one)
	if n, err := db.Store.RevokeUserConnections(ctx, db.Users[alice]); err != nil || len(n) != 1 || n[0].ConnectionID != two {
		t.Fatalf("revoke all: %v %v", n, err)
	}
	notified(two)
	if _, err := db.Pool.Exec(ctx, `DELETE FROM connections WHERE id = $1`, three); err != nil {
		t.Fatal(err)
	}
	notified(three)
}

// Ending a membership by any path — here plain SQL, as an operator might —
// revokes the member's connections into that team, and only those.
func TestMembershipEndRevokesByTrigger(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	notified := listen(t)
	globex := db.Connect(t, alice, "globex", "client-m")
	acme := db.Connect(t, alice, "acme", "client-m")
	if _, err := db.Pool.Exec(ctx, `DELETE FROM memberships WHERE user_id = $1 AND team_id = $2`, db.Users[alice], db.Teams["globex"]); err != nil {
		t.Fatal(err)
	}
	notified(globex)
	if !db.Revoked(t, globex) || db.Revoked(t, acme) {
		t.Errorf("revoked: globex %v (want true), acme %v (want false)", db.Revoked(t, globex), db.Revoked(t, acme))
	}
	// Deleting a user cascades through memberships and connections alike.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, db.Users[alice]); err != nil {
		t.Fatalf("delete a user with memberships and connections: %v", err)
	}
	notified(acme)
}

func TestEndMembership(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	conn := db.Connect(t, alice, "globex", "client-e")
	other := db.Connect(t, bob, "globex", "client-e")
	var seen []string
	allowAll := func(actor, target store.Member, members []store.Member) error {
		seen = append(seen, actor.Email+">"+target.Email)
		return nil
	}
	refuse := errors.New("no")
	if _, err := db.Store.EndMembership(ctx, db.Users[bob], db.Teams["globex"], db.Users[alice],
		func(store.Member, store.Member, []store.Member) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("a refusing rule: %v", err)
	}
	if db.Revoked(t, conn) {
		t.Fatal("a refused removal revoked the connection")
	}
	for _, tt := range []struct{ actor, team, target string }{
		{carol, "globex", alice}, // actor not a member
		{bob, "globex", carol},   // target not a member
		{bob, "acme", alice},     // actor not in that team
	} {
		if _, err := db.Store.EndMembership(ctx, db.Users[tt.actor], db.Teams[tt.team], db.Users[tt.target], allowAll); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s removes %s from %s: %v, want ErrNotFound", tt.actor, tt.target, tt.team, err)
		}
	}
	revoked, err := db.Store.EndMembership(ctx, db.Users[bob], db.Teams["globex"], db.Users[alice], allowAll)
	if err != nil || len(revoked) != 1 || revoked[0].ConnectionID != conn || revoked[0].ClientID != "client-e" {
		t.Fatalf("EndMembership = %+v, %v", revoked, err)
	}
	if !slices.Equal(seen, []string{bob + ">" + alice}) {
		t.Errorf("rule saw %v", seen)
	}
	if db.Revoked(t, other) {
		t.Error("bob's own connection was revoked")
	}
	if _, err := db.Store.TeamOfMember(ctx, db.Users[alice], db.Teams["globex"]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice still a member of globex: %v", err)
	}
}

func TestConsentRevocationBookkeeping(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	a1 := db.Connect(t, alice, "acme", "client-c")
	db.Connect(t, alice, "globex", "client-c")
	if _, err := db.Store.RevokeVisibleConnection(ctx, db.Users[alice], a1); err != nil {
		t.Fatal(err)
	}
	// A live connection of the same client remains: nothing is pending.
	if p, err := db.Store.PendingConsentRevocations(ctx, 10); err != nil || len(p) != 0 {
		t.Errorf("pending with a live sibling: %v %v", p, err)
	}
	if live, _ := db.Store.HasLiveConnection(ctx, db.Users[alice], "client-c"); !live {
		t.Error("HasLiveConnection = false with a live sibling")
	}
	if _, err := db.Store.RevokeUserConnections(ctx, db.Users[alice]); err != nil {
		t.Fatal(err)
	}
	want := []store.Grant{{UserID: db.Users[alice], ClientID: "client-c"}}
	if p, err := db.Store.PendingConsentRevocations(ctx, 10); err != nil || !slices.Equal(p, want) {
		t.Errorf("pending = %v %v, want %v", p, err, want)
	}
	if err := db.Store.MarkHydraConsentRevoked(ctx, db.Users[alice], "client-c"); err != nil {
		t.Fatal(err)
	}
	if p, _ := db.Store.PendingConsentRevocations(ctx, 10); len(p) != 0 {
		t.Errorf("pending after marking: %v", p)
	}
}

func TestClientUses(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	c := db.Connect(t, alice, "acme", "client-u")
	used := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := db.Pool.Exec(ctx, `UPDATE connections SET last_used_at = $2 WHERE id = $1`, c, used); err != nil {
		t.Fatal(err)
	}
	db.Connect(t, bob, "globex", "client-v")
	uses, err := db.Store.ClientUses(ctx, []string{"client-u", "client-v", "client-never"})
	if err != nil {
		t.Fatal(err)
	}
	if u := uses["client-u"]; !u.Authorized || !u.LastActive.Equal(used) {
		t.Errorf("client-u %+v, want its last use", u)
	}
	if u := uses["client-v"]; !u.Authorized || time.Since(u.LastActive) > time.Minute {
		t.Errorf("client-v %+v, want its creation", u)
	}
	if _, ok := uses["client-never"]; ok {
		t.Error("a client without connections has a use")
	}
}

func TestActivity(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	c := db.Connect(t, alice, "acme", "client-x")
	for i, outcome := range []string{"ok", "denied", "tool_error"} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO audit_events (at, user_id, team_id, client_id, connection_id, tool, outcome, duration_us)
			VALUES (now() - $1 * interval '1 minute', $2, $3, 'client-x', $4, 'list_invoices', $5, 2500)`,
			i, db.Users[alice], db.Teams["acme"], c, outcome); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Store.Activity(ctx, c, 2)
	if err != nil || len(got) != 2 || got[0].Outcome != "ok" || got[1].Outcome != "denied" || got[0].Duration != 2500*time.Microsecond {
		t.Errorf("Activity = %+v, %v; want the two newest", got, err)
	}
	if _, err := db.Store.Activity(ctx, "nope", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed id: %v", err)
	}
}

func TestExclusiveJob(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	inside, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		ran, err := db.Store.ExclusiveJob(ctx, "test-"+db.Schema, func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		if !ran || err != nil {
			t.Errorf("first run: %v %v", ran, err)
		}
	})
	<-inside
	ran, err := db.Store.ExclusiveJob(ctx, "test-"+db.Schema, func(context.Context) error { t.Error("ran twice at once"); return nil })
	if ran || err != nil {
		t.Errorf("second run while the first holds the lock: ran=%v err=%v", ran, err)
	}
	close(release)
	wg.Wait()
	ran, err = db.Store.ExclusiveJob(ctx, "test-"+db.Schema, func(context.Context) error { return nil })
	if !ran || err != nil {
		t.Errorf("after the first ended: ran=%v err=%v", ran, err)
	}
}

// GrantScopes adds to the user's own live connection only, each scope once,
// and notifies connection_changed.
func TestGrantScopes(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	notified := listen(t)
	own := db.Connect(t, alice, "globex", "client-g", "invoices:read")
	bobs := db.Connect(t, bob, "globex", "client-g", "invoices:read")
	got, err := db.Store.GrantScopes(ctx, db.Users[alice], own, []string{"invoices:write", "invoices:read", "invoices:write", "accounting:read"})
	if err != nil || !slices.Equal(got, []string{"invoices:read", "invoices:write", "accounting:read"}) {
		t.Fatalf("grant: %v %v", got, err)
	}
	notified(own)
	if got, err := db.Store.GrantScopes(ctx, db.Users[alice], own, []string{"invoices:read"}); err != nil || len(got) != 3 {
		t.Fatalf("grant of a scope it has: %v %v", got, err)
	}
	// bob (globex's admin) may revoke alice's connection but not widen it,
	// nor alice his.
	for _, tc := range []struct{ user, conn string }{{bob, own}, {alice, bobs}, {alice, "not-a-uuid"}} {
		if _, err := db.Store.GrantScopes(ctx, db.Users[tc.user], tc.conn, []string{"accounting:write"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s grants on %s: %v, want ErrNotFound", tc.user, tc.conn, err)
		}
	}
	if _, err := db.Store.RevokeVisibleConnection(ctx, db.Users[alice], own); err != nil {
		t.Fatal(err)
	}
	notified(own)
	if _, err := db.Store.GrantScopes(ctx, db.Users[alice], own, []string{"accounting:write"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("grant on a revoked connection: %v, want ErrNotFound", err)
	}
	v, err := db.Store.VisibleConnection(ctx, db.Users[bob], bobs)
	if err != nil || !slices.Equal(v.Scopes, []string{"invoices:read"}) {
		t.Errorf("bob's connection: %v %v", v.Scopes, err)
	}
}
