package locale

import (
	"io/fs"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/logtest"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New(Options{Log: logtest.Strict(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogsHaveTheSameKeys fails when one language's message file lacks
// a message that another has.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	names, err := fs.Glob(uiMessages, "messages/*.json")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string][]string{} // file -> message ids
	all := map[string]bool{}
	for _, name := range names {
		raw, _ := fs.ReadFile(uiMessages, name)
		f, err := i18n.ParseMessageFileBytes(raw, name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, m := range f.Messages {
			ids[name] = append(ids[name], m.ID)
			all[m.ID] = true
		}
	}
	if len(ids) < 3 {
		t.Fatalf("message files %v: want at least English, German and French", names)
	}
	for name, have := range ids {
		for id := range all {
			if !slices.Contains(have, id) {
				t.Errorf("%s lacks %q", name, id)
			}
		}
	}
}

func TestOfferedLanguages(t *testing.T) {
	c := newCatalog(t)
	got := c.Languages()
	want := []language.Tag{language.English, language.German, language.French}
	if !slices.Equal(got, want) {
		t.Errorf("Languages() = %v, want %v", got, want)
	}
}

// TestEveryLanguageHasScopeTexts: the catalog's labels and descriptions
// load in every offered language, and differ from the English ones except in
// English (so a copied file would show up).
func TestEveryLanguageHasScopeTexts(t *testing.T) {
	c := newCatalog(t)
	en := c.Localizer(language.English)
	for _, tag := range c.Languages() {
		l := c.Localizer(tag)
		for _, s := range catalog.All() {
			label, desc := l.ScopeLabel(s.Name), l.ScopeDescription(s.Name)
			if label == catalog.LabelID(s.Name) || desc == catalog.DescriptionID(s.Name) {
				t.Errorf("%s: no text for %s", tag, s.Name)
			}
			if tag != language.English && (label == en.ScopeLabel(s.Name) || desc == en.ScopeDescription(s.Name)) {
				t.Errorf("%s: %s is not translated", tag, s.Name)
			}
		}
	}
}

// TestPluralsRender: every plural message renders in every language without
// a missing form (logtest.Strict fails the test otherwise).
func TestPluralsRender(t *testing.T) {
	c := newCatalog(t)
	for _, tag := range c.Languages() {
		l := c.Localizer(tag)
		for _, n := range []int{1, 2, 15} {
			if got := l.N("login.error.throttled", n); !strings.Contains(got, strconv.Itoa(n)) {
				t.Errorf("%s N(%d) = %q", tag, n, got)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		name string
		p    Preferences
		want language.Tag
	}{
		{"nothing", Preferences{}, language.English},
		{"accept-language", Preferences{AcceptLanguage: "de-DE,de;q=0.9,en;q=0.8"}, language.German},
		{"accept-language weights", Preferences{AcceptLanguage: "en;q=0.5, fr;q=0.9"}, language.French},
		{"regional variant", Preferences{AcceptLanguage: "fr-CA"}, language.French},
		{"ui_locales beats accept-language", Preferences{UILocales: "de", AcceptLanguage: "fr"}, language.German},
		{"first offered ui_locale", Preferences{UILocales: "es fr-BE de"}, language.French},
		{"unoffered ui_locales fall through", Preferences{UILocales: "es ja", AcceptLanguage: "de"}, language.German},
		{"switcher beats ui_locales", Preferences{Choice: "fr", UILocales: "de", AcceptLanguage: "de"}, language.French},
		{"bad switcher value ignored", Preferences{Choice: "<script>", UILocales: "de"}, language.German},
		{"unoffered everything", Preferences{Choice: "xx", UILocales: "ja", AcceptLanguage: "es, it"}, language.English},
		{"garbage header", Preferences{AcceptLanguage: ";;;,="}, language.English},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Resolve(tt.p); got != tt.want {
				t.Errorf("Resolve(%+v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestForRemembersTheSwitcherChoice(t *testing.T) {
	c := newCatalog(t)
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/login?login_challenge=x&lang=fr", nil)
	r.Header.Set("Accept-Language", "de")
	if got := c.For(rec, r, "de").Lang(); got != "fr" {
		t.Fatalf("lang = %s, want fr", got)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Value != "fr" || !cookies[0].HttpOnly {
		t.Fatalf("cookies = %v, want an HttpOnly lang=fr", cookies)
	}

	// The next page of the flow, without ?lang=, keeps the choice.
	r = httptest.NewRequest("GET", "/consent?consent_challenge=y", nil)
	r.Header.Set("Accept-Language", "de")
	r.AddCookie(cookies[0])
	if got := c.For(httptest.NewRecorder(), r, "de").Lang(); got != "fr" {
		t.Errorf("lang with cookie = %s, want fr", got)
	}

	// An unoffered ?lang= sets nothing.
	rec = httptest.NewRecorder()
	c.For(rec, httptest.NewRequest("GET", "/login?lang=xx", nil), "")
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("an unoffered language was remembered")
	}
}

func TestSecureCookie(t *testing.T) {
	c, err := New(Options{SecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	c.For(rec, httptest.NewRequest("GET", "/login?lang=de", nil), "")
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-lang" || !ck[0].Secure || ck[0].Path != "/" {
		t.Errorf("cookies on an https origin = %v", ck)
	}
}

func TestChoices(t *testing.T) {
	c := newCatalog(t)
	got := c.Localizer(language.German).Choices("/login?login_challenge=a%26b&lang=en")
	if len(got) != 3 {
		t.Fatalf("Choices = %+v", got)
	}
	want := []Choice{
		{Tag: "en", Name: "English", URL: "/login?lang=en&login_challenge=a%26b"},
		{Tag: "de", Name: "Deutsch", URL: "/login?lang=de&login_challenge=a%26b", Current: true},
		{Tag: "fr", Name: "Français", URL: "/login?lang=fr&login_challenge=a%26b"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Choices =\n%+v\nwant\n%+v", got, want)
	}
	for _, self := range []string{"https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "relative"} {
		if got := c.Localizer(language.English).Choices(self); got != nil {
			t.Errorf("Choices(%q) = %+v, want none", self, got)
		}
	}
}

func TestTranslateWithArguments(t *testing.T) {
	c := newCatalog(t)
	got := c.Localizer(language.German).T("login.intro", "Client", "Demo <App>")
	if got != "Demo <App> möchte sich mit Ihrem Konto verbinden." {
		t.Errorf("T = %q", got)
	}
}
