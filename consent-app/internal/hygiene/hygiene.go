// Package hygiene is the consent app's periodic housekeeping. It deletes the
// Hydra clients our registration front created that nobody uses: those that
// never completed an authorization within a day of registering, and those
// idle for months. A deleted client's next request gets invalid_client from
// Hydra, which makes an MCP client register again. It also retries the
// Hydra consent revocations that failed when connections were revoked.
package hygiene

import (
	"context"
	"log/slog"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/register"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// Default ages, used for zero Options fields.
const (
	DefaultUnauthorizedTTL = 24 * time.Hour
	DefaultIdleTTL         = 90 * 24 * time.Hour
)

// Options set when a client counts as unused.
type Options struct {
	// UnauthorizedTTL is how long a registered client may go without anyone
	// approving it; zero = DefaultUnauthorizedTTL.
	UnauthorizedTTL time.Duration
	// IdleTTL is how long a client may go without an approval or a tool
	// call; zero = DefaultIdleTTL.
	IdleTTL time.Duration
}

// Hydra lists and deletes clients.
type Hydra interface {
	ListClients(ctx context.Context) ([]hydra.OAuth2Client, error)
	DeleteClient(ctx context.Context, id string) error
}

// Store is what the job reads and how it makes sure one replica runs it.
type Store interface {
	ClientUses(ctx context.Context, clientIDs []string) (map[string]store.ClientUse, error)
	ExclusiveJob(ctx context.Context, name string, fn func(context.Context) error) (bool, error)
}

// Job is one housekeeping pass; Run it, or Loop it.
type Job struct {
	Hydra   Hydra
	Store   Store
	Revoker *revocation.Revoker
	Options Options
	Log     *slog.Logger
	// Now returns the current time; nil = time.Now.
	Now func() time.Time
}

// Report is what one pass did.
type Report struct {
	// Skipped means another replica was running the job.
	Skipped bool
	// Deleted are the ids of the clients deleted.
	Deleted []string
	// ConsentsRevoked counts Hydra consent revocations retried with success.
	ConsentsRevoked int
}

// Unused is the pure decision: why the client should be deleted, or "" to
// keep it. Only clients our registration front created are ever deleted:
// not the settings pages' own client, not clients known by a metadata
// document URL, not clients an operator created. use is the client's entry
// from store.ClientUses, zero when it has none.
func Unused(c *hydra.OAuth2Client, use store.ClientUse, now time.Time, opts Options) string {
	opts = opts.withDefaults()
	if !register.SelfRegistered(c) {
		return ""
	}
	created := c.GetCreatedAt()
	switch {
	case created.IsZero():
		return "" // not knowing its age, keep it
	case !use.Authorized && now.Sub(created) > opts.UnauthorizedTTL:
		return "never authorized"
	case use.Authorized && now.Sub(use.LastActive) > opts.IdleTTL && now.Sub(created) > opts.IdleTTL:
		return "idle"
	}
	return ""
}

func (o Options) withDefaults() Options {
	if o.UnauthorizedTTL == 0 {
		o.UnauthorizedTTL = DefaultUnauthorizedTTL
	}
	if o.IdleTTL == 0 {
		o.IdleTTL = DefaultIdleTTL
	}
	return o
}

// Run makes one pass, unless another replica is making one.
func (j *Job) Run(ctx context.Context) (Report, error) {
	var rep Report
	ran, err := j.Store.ExclusiveJob(ctx, "hygiene", func(ctx context.Context) error {
		var err error
		rep, err = j.run(ctx)
		return err
	})
	rep.Skipped = !ran && err == nil
	return rep, err
}

func (j *Job) run(ctx context.Context) (Report, error) {
	var rep Report
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	clients, err := j.Hydra.ListClients(ctx)
	if err != nil {
		return rep, err
	}
	var ids []string
	for _, c := range clients {
		if register.SelfRegistered(&c) {
			ids = append(ids, c.GetClientId())
		}
	}
	uses, err := j.Store.ClientUses(ctx, ids)
	if err != nil {
		return rep, err
	}
	t := now()
	for _, c := range clients {
		id := c.GetClientId()
		reason := Unused(&c, uses[id], t, j.Options)
		if reason == "" {
			continue
		}
		if err := j.Hydra.DeleteClient(ctx, id); err != nil {
			return rep, err
		}
		rep.Deleted = append(rep.Deleted, id)
		n, err := j.Revoker.AllOfClient(ctx, id)
		if err != nil {
			return rep, err
		}
		j.Log.InfoContext(ctx, "deleted an unused client", "client_id", id, "reason", reason, "connections_revoked", n)
	}
	rep.ConsentsRevoked, err = j.Revoker.RetryPending(ctx)
	return rep, err
}

// Loop runs a pass every interval until ctx ends, logging what each did.
func (j *Job) Loop(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rep, err := j.Run(ctx)
		switch {
		case err != nil:
			j.Log.ErrorContext(ctx, "hygiene pass failed; next pass retries", "err", err)
		case !rep.Skipped:
			j.Log.InfoContext(ctx, "hygiene pass", "clients_deleted", len(rep.Deleted), "consents_revoked", rep.ConsentsRevoked)
		}
	}
}
