// Package locale chooses the language of a page and translates the consent
// app's texts with go-i18n. The bundle holds the app's own messages
// (messages/ui.<language>.json) and the scope labels and descriptions of the
// catalog module, which owns them. The languages offered are those of the
// app's message files; each must also have the scope texts.
//
// A page's language is, in this order: the one picked with the language
// switcher (the lang query parameter, then remembered in a cookie), the
// ui_locales of the authorization request, the browser's Accept-Language,
// and English.
package locale

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/appcookie"
)

//go:embed messages/*.json
var uiMessages embed.FS

// Fallback is the language of a page when no preference matches, and of a
// message that a language lacks.
var Fallback = language.English

// QueryParam is the language switcher's query parameter.
const QueryParam = "lang"

// cookieName is the cookie that keeps a switcher choice (appcookie.Name).
const cookieName = "lang"

// cookieMaxAge keeps a switcher choice for a year.
const cookieMaxAge = 365 * 24 * 60 * 60

// Catalog holds every translation and the languages pages are offered in.
type Catalog struct {
	bundle  *i18n.Bundle
	langs   []language.Tag // Fallback first, then the others by tag
	matcher language.Matcher
	secure  bool
	log     *slog.Logger
}

// Options configure a Catalog.
type Options struct {
	// SecureCookies sets the Secure flag (and the __Host- name prefix) of the
	// cookie that remembers a switcher choice; false for plain-HTTP origins.
	SecureCookies bool
	// Log receives a warning for every message a language lacks; nil =
	// slog.Default().
	Log *slog.Logger
}

// New loads the embedded message files.
func New(opts Options) (*Catalog, error) {
	c := &Catalog{bundle: i18n.NewBundle(Fallback), secure: opts.SecureCookies, log: opts.Log}
	if c.log == nil {
		c.log = slog.Default()
	}
	ui, err := load(c.bundle, uiMessages, "messages/ui.*.json")
	if err != nil {
		return nil, err
	}
	scopes, err := load(c.bundle, catalog.MessageFiles(), "scopes.*.json")
	if err != nil {
		return nil, err
	}
	for _, t := range ui {
		if !slices.Contains(scopes, t) {
			return nil, fmt.Errorf("locale: the catalog module has no scope texts in %s", t)
		}
	}
	if !slices.Contains(ui, Fallback) {
		return nil, fmt.Errorf("locale: no messages in the fallback language %s", Fallback)
	}
	slices.SortFunc(ui, func(a, b language.Tag) int {
		switch {
		case a == Fallback:
			return -1
		case b == Fallback:
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	c.langs = ui
	c.matcher = language.NewMatcher(ui)
	return c, nil
}

// MustNew is New for start-up, where embedded files that do not load are a
// bug (the package's tests load them).
func MustNew(opts Options) *Catalog {
	c, err := New(opts)
	if err != nil {
		panic(err)
	}
	return c
}

// load adds the message files matching pattern and returns their languages.
func load(b *i18n.Bundle, fsys fs.FS, pattern string) ([]language.Tag, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	var tags []language.Tag
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := b.ParseMessageFileBytes(raw, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("locale: %s: %w", name, err)
		}
		tags = append(tags, f.Tag)
	}
	return tags, nil
}

// Languages are the languages offered, the fallback first.
func (c *Catalog) Languages() []language.Tag { return slices.Clone(c.langs) }

// Preferences are the sources of a page's language, strongest first.
type Preferences struct {
	// Choice is what the person picked with the switcher.
	Choice string
	// UILocales is the ui_locales parameter of the authorization request:
	// BCP 47 tags separated by spaces.
	UILocales string
	// AcceptLanguage is the browser's Accept-Language header.
	AcceptLanguage string
}

// Resolve returns the language for p: the first source that names an
// offered language (or a regional variant of one) wins.
func (c *Catalog) Resolve(p Preferences) language.Tag {
	accepted, _, _ := language.ParseAcceptLanguage(p.AcceptLanguage)
	for _, tags := range [][]language.Tag{parseList(p.Choice), parseList(p.UILocales), accepted} {
		if t, ok := c.match(tags); ok {
			return t
		}
	}
	return Fallback
}

func (c *Catalog) match(tags []language.Tag) (language.Tag, bool) {
	if len(tags) == 0 {
		return language.Und, false
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return language.Und, false
	}
	return c.langs[i], true
}

// parseList reads space-separated language tags, skipping malformed ones.
func parseList(s string) []language.Tag {
	var tags []language.Tag
	for f := range strings.FieldsSeq(s) {
		if t, err := language.Parse(f); err == nil {
			tags = append(tags, t)
		}
	}
	return tags
}

// For returns the localizer for a request; uiLocales is the authorization
// request's ui_locales, "" when there is none. A switcher choice in the
// query is remembered in a cookie, so the rest of the flow keeps it.
func (c *Catalog) For(w http.ResponseWriter, r *http.Request, uiLocales string) *Localizer {
	choice := r.URL.Query().Get(QueryParam)
	if t, ok := c.match(parseList(choice)); ok {
		appcookie.Set(w, cookieName, t.String(), cookieMaxAge, c.secure)
	} else if ck, err := r.Cookie(appcookie.Name(cookieName, c.secure)); err == nil {
		choice = ck.Value
	}
	return c.Localizer(c.Resolve(Preferences{Choice: choice, UILocales: uiLocales, AcceptLanguage: r.Header.Get("Accept-Language")}))
}

// Localizer returns the localizer for one of the offered languages.
func (c *Catalog) Localizer(tag language.Tag) *Localizer {
	return &Localizer{cat: c, tag: tag, loc: i18n.NewLocalizer(c.bundle, tag.String())}
}

// Localizer translates into one language.
type Localizer struct {
	cat *Catalog
	tag language.Tag
	loc *i18n.Localizer
}

// Lang is the language's BCP 47 tag, for the page's lang attribute.
func (l *Localizer) Lang() string { return l.tag.String() }

// T translates message id. args are name/value pairs for the message's
// placeholders: T("login.intro", "Client", name) fills {{.Client}}.
func (l *Localizer) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return l.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
}

// N translates message id in the plural form for count, which the message
// reads as {{.Count}}.
func (l *Localizer) N(id string, count int) string {
	return l.localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: map[string]any{"Count": count}})
}

// ScopeLabel is the catalog's label of scope.
func (l *Localizer) ScopeLabel(scope string) string { return l.T(catalog.LabelID(scope)) }

// ScopeDescription is the catalog's description of scope.
func (l *Localizer) ScopeDescription(scope string) string { return l.T(catalog.DescriptionID(scope)) }

// localize falls back to English, then to the id itself, when a language
// lacks a message; the tests keep that from happening.
func (l *Localizer) localize(cfg *i18n.LocalizeConfig) string {
	msg, err := l.loc.Localize(cfg)
	if err != nil {
		l.cat.log.Warn("missing translation", "lang", l.tag.String(), "id", cfg.MessageID, "err", err)
	}
	if msg == "" {
		return cfg.MessageID
	}
	return msg
}

// Choice is one entry of the language switcher.
type Choice struct {
	Tag     string // BCP 47, for hreflang and lang
	Name    string // the language's own name for itself
	URL     string
	Current bool
}

// Choices is the language switcher for the page at self (a path with its
// query): one link per offered language, each to self with ?lang= set.
func (l *Localizer) Choices(self string) []Choice {
	u, err := url.Parse(self)
	// Only paths on this origin: "//x" and "/\x" would leave it.
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/\\") {
		return nil
	}
	out := make([]Choice, 0, len(l.cat.langs))
	for _, t := range l.cat.langs {
		q := u.Query()
		q.Set(QueryParam, t.String())
		link := url.URL{Path: u.Path, RawQuery: q.Encode()}
		out = append(out, Choice{
			Tag:     t.String(),
			Name:    l.cat.Localizer(t).T("language.name"),
			URL:     link.String(),
			Current: t == l.tag,
		})
	}
	return out
}
