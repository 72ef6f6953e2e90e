package settings

import (
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// Frame is what every settings page shows around its content: who is signed
// in, the way out, the teams they manage and the outcome of their last
// action.
type Frame struct {
	Email        string
	SignOutToken string
	AdminTeams   []store.Team
	// Notice reports the action that led here; "" for none.
	Notice string
}

// ConnectionsPage is the data of settings.html: My connections.
type ConnectionsPage struct {
	Frame
	Connections []ConnRow
	Teams       []TeamRow
}

// ConnRow is a connection as a list shows it.
type ConnRow struct {
	ID            string
	ClientName    string
	ClientInitial string
	TeamName      string
	// UserEmail is whose connection it is; Mine tells whether that is the
	// viewer.
	UserEmail string
	Mine      bool
	// Scopes are the granted scopes' labels in the page's language.
	Scopes []string
	// Created and LastUsed are shown; the ISO forms go in datetime
	// attributes. LastUsed is "" for a connection never used.
	Created, CreatedISO   string
	LastUsed, LastUsedISO string
	// Revoked is when it was revoked; "" while it is live.
	Revoked string
}

// TeamRow is one of the viewer's teams.
type TeamRow struct {
	ID, Name, Role string
	// Admin tells whether the viewer owns or administers it.
	Admin bool
}

// ConnectionPage is the data of settings-connection.html.
type ConnectionPage struct {
	Frame
	Connection ConnRow
	Activity   []ActivityRow
	// Limit is how many tool calls the page lists at most.
	Limit int
	// Back is the list the connection belongs to.
	Back string
}

// ActivityRow is one tool call.
type ActivityRow struct {
	At, ISO  string
	Tool     string
	Outcome  string
	Failed   bool
	Duration string
}

// TeamPage is the data of settings-team.html.
type TeamPage struct {
	Frame
	Team        store.Team
	Members     []MemberRow
	Connections []ConnRow
}

// MemberRow is one member of a team.
type MemberRow struct {
	UserID, Email, Name, Role string
	Self                      bool
	CanRemove                 bool
}

// ConfirmPage is the data of settings-confirm.html: one change, to confirm
// or cancel.
type ConfirmPage struct {
	Frame
	Heading   string
	Text      string
	Action    string // where the form posts
	CSRFToken string
	Confirm   string // the confirm button's label
	Cancel    string // where cancelling goes
}

// MessagePage is the data of settings-message.html: a problem with the
// request, shown inside the settings frame.
type MessagePage struct {
	Frame
	Text string
}

func (h *Handler) rows(v *viewer, conns []store.ConnectionView) []ConnRow {
	out := make([]ConnRow, 0, len(conns))
	for _, c := range conns {
		out = append(out, h.row(v, c))
	}
	return out
}

func (h *Handler) row(v *viewer, c store.ConnectionView) ConnRow {
	r := ConnRow{
		ID: c.ID, ClientName: c.ClientName, ClientInitial: clientmeta.Initial(c.ClientName), TeamName: c.TeamName,
		UserEmail: c.UserEmail, Mine: c.UserID == v.user.ID,
		Created: formatTime(c.CreatedAt), CreatedISO: c.CreatedAt.UTC().Format(time.RFC3339),
	}
	for _, s := range catalog.Known(c.Scopes) {
		r.Scopes = append(r.Scopes, v.l.ScopeLabel(s))
	}
	if c.LastUsedAt != nil {
		r.LastUsed, r.LastUsedISO = formatTime(*c.LastUsedAt), c.LastUsedAt.UTC().Format(time.RFC3339)
	}
	if c.RevokedAt != nil {
		r.Revoked = formatTime(*c.RevokedAt)
	}
	return r
}

// formatTime writes a moment the same way in every language: ISO 8601 date
// and time of day, in UTC, said so.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// formatDuration writes a tool call's duration in milliseconds with the
// language's decimal separator.
func formatDuration(l *locale.Localizer, d time.Duration) string {
	tag, _ := language.Parse(l.Lang())
	ms := float64(d.Microseconds()) / 1000
	return message.NewPrinter(tag).Sprint(number.Decimal(ms, number.MaxFractionDigits(1), number.MinFractionDigits(1))) + " ms"
}
