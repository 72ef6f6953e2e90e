package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mcp-oauth/e2e/browser"
	"github.com/mcp-oauth/e2e/internal/load"
)

// settingsRevoker revokes connections the way their user does: on the
// settings pages, signed in once (the settings pages' own OIDC sign-in
// through the same login page). open loads a connection's confirmation
// page; the returned click submits it, and that is what P3 times.
type settingsRevoker struct {
	b      *browser.Browser
	issuer string
}

func newSettingsRevoker(issuer string) (*settingsRevoker, error) {
	b, err := browser.New(issuer)
	if err != nil {
		return nil, err
	}
	page, err := b.Get(issuer + "/settings")
	if err != nil {
		return nil, err
	}
	form, err := page.Form("password")
	if err != nil {
		return nil, fmt.Errorf("settings sign-in page: %w", err)
	}
	form.Values.Set("email", benchEmail)
	form.Values.Set("password", benchPassword)
	if page, err = b.Submit(form, "", ""); err != nil {
		return nil, err
	}
	if page.Status != http.StatusOK || page.URL.Path != "/settings" {
		return nil, fmt.Errorf("settings sign-in ended at %s (HTTP %d), not /settings", page.URL.Path, page.Status)
	}
	return &settingsRevoker{b: b, issuer: issuer}, nil
}

// open loads the confirmation page of the connection and returns its
// "Revoke access" click.
func (s *settingsRevoker) open(connectionID string) (click func() error, err error) {
	path := "/settings/connections/" + connectionID + "/revoke"
	page, err := s.b.Get(s.issuer + path)
	if err != nil {
		return nil, err
	}
	form, err := page.FormTo(path)
	if err != nil {
		return nil, fmt.Errorf("revoke confirmation page: %w", err)
	}
	return func() error {
		page, err := s.b.Submit(form, "", "")
		if err != nil {
			return err
		}
		if page.Status != http.StatusOK || !strings.Contains(page.URL.RawQuery, "done=revoked") {
			return fmt.Errorf("revoke ended at %s (HTTP %d), not the revoked notice", page.URL, page.Status)
		}
		return nil
	}, nil
}

// refusalTimeout bounds the wait for one refusal: far beyond the goal, so a
// revocation that never bites fails the run instead of hanging it.
const refusalTimeout = 10 * time.Second

// revocation is P3: for each of the last Revokes grants, both replicas
// first accept the token, so that each has verified it and holds its
// connection in its cache; then the user revokes the connection on the
// settings page, and both replicas are asked, back to back, until each
// refuses. The time runs from the click (the form's submission) to the
// later of the two refusals.
func (r *run) revocation(ctx context.Context) error {
	revoker, err := newSettingsRevoker(r.st.IssuerURL)
	if err != nil {
		return err
	}
	var both []time.Duration
	for _, g := range r.grants[len(r.grants)-r.p.Revokes:] {
		cs := make([]*mcpClient, len(r.replicas))
		for i, addr := range r.replicas {
			cs[i] = newClient(addr, g.token)
		}
		d, err := r.timeRevocation(ctx, revoker, g.connectionID, cs)
		closeAll(cs)
		if err != nil {
			return err
		}
		both = append(both, d)
	}
	lat := load.Sorted(both)
	r.report.add(Row{ID: "P3", Figure: fmt.Sprintf("revoke on the settings page → refused on %d replicas", len(r.replicas)), Lat: lat,
		Note: fmt.Sprintf("n=%d", len(lat)), Goal: "p99 ≤ 1 s", Met: verdict(lat.Percentile(99) <= time.Second)})
	return nil
}

// timeRevocation revokes connectionID and returns the time until every
// client's server refused it.
func (r *run) timeRevocation(ctx context.Context, revoker *settingsRevoker, connectionID string, cs []*mcpClient) (time.Duration, error) {
	for _, c := range cs {
		for range 2 { // verified, and then served from the caches
			if err := c.call(ctx, loadCall); err != nil {
				return 0, fmt.Errorf("%s before the revoke: %w", c.url, err)
			}
		}
	}
	click, err := revoker.open(connectionID)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, refusalTimeout)
	defer cancel()
	var mu sync.Mutex
	var last time.Duration
	errs := make([]error, len(cs)+1)
	start := make(chan struct{})
	began := time.Now()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			<-start
			for {
				err := c.call(ctx, loadCall)
				if errors.Is(err, errRefused) {
					mu.Lock()
					last = max(last, time.Since(began))
					mu.Unlock()
					return
				}
				if ctx.Err() != nil {
					errs[i] = fmt.Errorf("%s still accepts a revoked connection after %s", c.url, refusalTimeout)
					return
				}
				if err != nil {
					errs[i] = fmt.Errorf("%s after the revoke: %w", c.url, err)
					return
				}
			}
		})
	}
	began = time.Now()
	close(start)
	errs[len(cs)] = click()
	wg.Wait()
	return last, errors.Join(errs...)
}
