package revocation_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/consent-app/internal/membership"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/store/storetest"
)

// hydra records consent revocations; down makes them fail.
type hydra struct {
	mu      sync.Mutex
	revoked []store.Grant
	down    bool
}

func (h *hydra) RevokeConsent(_ context.Context, subject, clientID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return errors.New("hydra unreachable")
	}
	h.revoked = append(h.revoked, store.Grant{UserID: subject, ClientID: clientID})
	return nil
}

func (h *hydra) calls() []store.Grant {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.revoked)
}

// newRevoker returns a fresh database and a Revoker on it that calls h.
func newRevoker(t *testing.T, h *hydra) (*storetest.DB, *revocation.Revoker) {
	t.Helper()
	db := storetest.New(t)
	return db, &revocation.Revoker{Store: db.Store, Hydra: h, Log: storetest.Discard}
}

var (
	alice = demo.Alice.Email
	bob   = demo.Bob.Email
)

// Hydra's consent for a user and client goes with their last connection of
// that client, not before (docs/design.md quirk 7).
func TestHydraConsentGoesWithTheLastConnection(t *testing.T) {
	h := &hydra{}
	db, r := newRevoker(t, h)
	ctx := t.Context()
	acme := db.Connect(t, alice, "acme", "client-r")
	globex := db.Connect(t, alice, "globex", "client-r")

	if err := r.Connection(ctx, db.Users[alice], acme); err != nil {
		t.Fatal(err)
	}
	if got := h.calls(); len(got) != 0 {
		t.Fatalf("Hydra consent revoked while the globex connection lives: %v", got)
	}
	if err := r.Connection(ctx, db.Users[alice], globex); err != nil {
		t.Fatal(err)
	}
	want := []store.Grant{{UserID: db.Users[alice], ClientID: "client-r"}}
	if got := h.calls(); !slices.Equal(got, want) {
		t.Fatalf("Hydra calls %v, want %v", got, want)
	}
	if err := r.Connection(ctx, db.Users[alice], globex); err != nil || len(h.calls()) != 1 {
		t.Errorf("revoking again: %v, %d Hydra calls", err, len(h.calls()))
	}
	if err := r.Connection(ctx, db.Users[bob], acme); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob revokes alice's acme connection: %v, want ErrNotFound", err)
	}
}

func TestFailedHydraCallsAreRetried(t *testing.T) {
	h := &hydra{down: true}
	db, r := newRevoker(t, h)
	ctx := t.Context()
	db.Connect(t, alice, "acme", "client-1")
	db.Connect(t, alice, "globex", "client-2")
	if n, err := r.AllOfUser(ctx, db.Users[alice]); err != nil || n != 2 {
		t.Fatalf("AllOfUser = %d, %v; the database revocation stands whatever Hydra says", n, err)
	}
	if n, err := r.RetryPending(ctx); err != nil || n != 0 {
		t.Errorf("retry with Hydra down = %d, %v", n, err)
	}
	h.mu.Lock()
	h.down = false
	h.mu.Unlock()
	if n, err := r.RetryPending(ctx); err != nil || n != 2 {
		t.Errorf("retry with Hydra up = %d, %v; want 2", n, err)
	}
	if n, _ := r.RetryPending(ctx); n != 0 {
		t.Errorf("a third pass revoked %d again", n)
	}
}

// membership.Remove is the function tests and the team page call: the
// member's connections into the team end, Hydra's consent with the last.
func TestRemoveMember(t *testing.T) {
	h := &hydra{}
	db, r := newRevoker(t, h)
	ctx := t.Context()
	conn := db.Connect(t, alice, "globex", "client-m")
	n, err := membership.Remove(ctx, r, db.Users[bob], db.Teams["globex"], db.Users[alice])
	if err != nil || n != 1 || !db.Revoked(t, conn) {
		t.Fatalf("Remove = %d, %v; revoked %v", n, err, db.Revoked(t, conn))
	}
	if got := h.calls(); len(got) != 1 || got[0].ClientID != "client-m" {
		t.Errorf("Hydra calls %v", got)
	}
	// alice owns acme alone: she may not leave it.
	if _, err := membership.Leave(ctx, r, db.Users[alice], db.Teams["acme"]); !errors.Is(err, membership.ErrLastOwner) {
		t.Errorf("last owner leaves: %v", err)
	}
}

func TestAllOfClientNeedsNoHydra(t *testing.T) {
	h := &hydra{down: true}
	db, r := newRevoker(t, h)
	conn := db.Connect(t, alice, "acme", "client-gone")
	if n, err := r.AllOfClient(t.Context(), "client-gone"); err != nil || n != 1 || !db.Revoked(t, conn) {
		t.Fatalf("AllOfClient = %d, %v", n, err)
	}
	if p, _ := db.Store.PendingConsentRevocations(t.Context(), 10); len(p) != 0 {
		t.Errorf("a deleted client's consents are pending: %v", p)
	}
}
