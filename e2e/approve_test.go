package e2e

import (
	"fmt"
	"net/url"
	"slices"

	"github.com/mcp-oauth/e2e/browser"
)

// approval is what a person's browser went through to approve a client.
type approval struct {
	// redirect is the authorization response: the redirect that left the
	// auth origin for the client's redirect URI.
	redirect *url.URL
	// consentPage is the HTML of the consent page.
	consentPage string
}

// approve opens authURL in a fresh browser, signs in as p and answers the
// consent page through the real forms, CSRF tokens included.
func approve(authURL string, p person) (*approval, error) {
	b, err := browser.New(st.IssuerURL)
	if err != nil {
		return nil, err
	}
	page, err := b.Get(authURL)
	if err != nil {
		return nil, err
	}
	if page.LeftOrigin != nil {
		return &approval{redirect: page.LeftOrigin}, nil // refused before sign-in
	}
	form, err := page.Form("password")
	if err != nil {
		return nil, err
	}
	form.Values.Set("email", p.email)
	form.Values.Set("password", p.password)
	if page, err = b.Submit(form, "", ""); err != nil {
		return nil, err
	}
	form, err = page.Form("consent_challenge")
	if err != nil {
		return nil, err
	}
	a := &approval{consentPage: page.Body}
	action := "allow"
	if p.deny || !slices.Contains(form.Buttons["action"], "allow") {
		action = "deny"
	} else if p.team != "" {
		if err := form.Choose("team_id", p.team); err != nil {
			return nil, err
		}
	}
	if page, err = b.Submit(form, "action", action); err != nil {
		return nil, err
	}
	if page.LeftOrigin == nil {
		return nil, fmt.Errorf("consent did not redirect to the client: HTTP %d %.300s", page.Status, page.Body)
	}
	a.redirect = page.LeftOrigin
	return a, nil
}
