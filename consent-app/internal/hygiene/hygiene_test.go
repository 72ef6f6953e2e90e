package hygiene

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/store/storetest"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// client is a Hydra client created at created; via is its registered_via
// metadata ("" for none).
func client(id, via string, created time.Time) hydra.OAuth2Client {
	c := hydra.OAuth2Client{ClientId: &id, CreatedAt: &created}
	if via != "" {
		c.Metadata = map[string]any{"registered_via": via}
	}
	return c
}

const dcr = "dynamic_client_registration"

func TestUnused(t *testing.T) {
	day := 24 * time.Hour
	used := func(last time.Time) store.ClientUse { return store.ClientUse{Authorized: true, LastActive: last} }
	tests := []struct {
		name   string
		client hydra.OAuth2Client
		use    store.ClientUse
		want   string
	}{
		{"fresh, not yet authorized", client("a", dcr, now.Add(-23*time.Hour)), store.ClientUse{}, ""},
		{"a day old, never authorized", client("a", dcr, now.Add(-25*time.Hour)), store.ClientUse{}, "never authorized"},
		{"authorized, used yesterday", client("a", dcr, now.Add(-200*day)), used(now.Add(-day)), ""},
		{"authorized, idle 89 days", client("a", dcr, now.Add(-200*day)), used(now.Add(-89 * day)), ""},
		{"authorized, idle 91 days", client("a", dcr, now.Add(-200*day)), used(now.Add(-91 * day)), "idle"},
		{"the settings pages' own client", firstPartyClient(now.Add(-400 * day)), store.ClientUse{}, ""},
		{"a metadata document client", client("a", "client_id_metadata_document", now.Add(-400*day)), store.ClientUse{}, ""},
		{"an operator's client", client("a", "", now.Add(-400*day)), store.ClientUse{}, ""},
		{"no creation time", hydra.OAuth2Client{ClientId: new("a"), Metadata: map[string]any{"registered_via": dcr}}, store.ClientUse{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unused(&tt.client, tt.use, now, Options{}); got != tt.want {
				t.Errorf("Unused = %q, want %q", got, tt.want)
			}
		})
	}
}

func firstPartyClient(created time.Time) hydra.OAuth2Client {
	c := firstparty.Client("http://localhost:3000", "secret")
	c.CreatedAt = &created
	return c
}

// fakeHydra lists a fixed set of clients and records deletions and consent
// revocations.
type fakeHydra struct {
	mu       sync.Mutex
	clients  []hydra.OAuth2Client
	deleted  []string
	consents []string
}

func (h *fakeHydra) ListClients(context.Context) ([]hydra.OAuth2Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.clients), nil
}

func (h *fakeHydra) DeleteClient(_ context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deleted = append(h.deleted, id)
	h.clients = slices.DeleteFunc(h.clients, func(c hydra.OAuth2Client) bool { return c.GetClientId() == id })
	return nil
}

func (h *fakeHydra) RevokeConsent(_ context.Context, subject, clientID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.consents = append(h.consents, clientID)
	return nil
}

func TestJobRun(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	old := now.Add(-100 * 24 * time.Hour)
	h := &fakeHydra{clients: []hydra.OAuth2Client{
		client("never-authorized", dcr, now.Add(-2*24*time.Hour)),
		client("just-registered", dcr, now.Add(-time.Hour)),
		client("idle", dcr, old),
		client("active", dcr, old),
		firstPartyClient(old),
	}}
	idle := db.Connect(t, demo.Alice.Email, demo.Acme.Slug, "idle")
	if _, err := db.Pool.Exec(ctx, `UPDATE connections SET created_at = $2, last_used_at = $2 WHERE id = $1`, idle, old); err != nil {
		t.Fatal(err)
	}
	active := db.Connect(t, demo.Alice.Email, demo.Acme.Slug, "active")
	if _, err := db.Pool.Exec(ctx, `UPDATE connections SET created_at = $2, last_used_at = $3 WHERE id = $1`, active, old, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A revocation whose Hydra call failed earlier.
	pending := db.Connect(t, demo.Bob.Email, demo.Globex.Slug, "active")
	if _, err := db.Pool.Exec(ctx, `UPDATE connections SET revoked_at = now() WHERE id = $1`, pending); err != nil {
		t.Fatal(err)
	}

	job := &Job{Hydra: h, Store: db.Store, Log: storetest.Discard, Now: func() time.Time { return now },
		Revoker: &revocation.Revoker{Store: db.Store, Hydra: h, Log: storetest.Discard}}
	rep, err := job.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rep.Deleted)
	if want := []string{"idle", "never-authorized"}; !slices.Equal(rep.Deleted, want) {
		t.Errorf("deleted %v, want %v", rep.Deleted, want)
	}
	if !db.Revoked(t, idle) || db.Revoked(t, active) {
		t.Errorf("revoked: idle %v (want true), active %v (want false)", db.Revoked(t, idle), db.Revoked(t, active))
	}
	if rep.ConsentsRevoked != 1 || !slices.Equal(h.consents, []string{"active"}) {
		t.Errorf("consents revoked %d %v, want bob's on active only (the deleted client's went with it)", rep.ConsentsRevoked, h.consents)
	}
	// Another replica running the job meanwhile: this one skips.
	var inner Report
	_, err = db.Store.ExclusiveJob(ctx, "hygiene", func(ctx context.Context) error {
		inner, err = job.Run(ctx)
		return err
	})
	if err != nil || !inner.Skipped {
		t.Errorf("a concurrent pass: %+v, %v; want skipped", inner, err)
	}
}
