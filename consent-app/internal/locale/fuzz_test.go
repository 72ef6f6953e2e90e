package locale

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzResolve: whatever the switcher, ui_locales and Accept-Language say,
// a page is in one of the offered languages, and a clear choice of an
// offered language wins.
func FuzzResolve(f *testing.F) {
	f.Add("de", "fr en", "en-US,en;q=0.9")
	f.Add("xx", "de-AT", "*;q=0")
	f.Add("", "zh-Hant-TW x-private", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")
	f.Add("en-u-nu-arab", "\x00", "en;q=NaN,de;q=1e309")
	f.Add("i-klingon", "sr-Latn-RS-u-ca-gregory-co-phonebk-x-foo", strings.Repeat("de-DE-", 100))
	c, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	offered := c.Languages()
	f.Fuzz(func(t *testing.T, choice, uiLocales, acceptLanguage string) {
		got := c.Resolve(Preferences{Choice: choice, UILocales: uiLocales, AcceptLanguage: acceptLanguage})
		if !slices.Contains(offered, got) {
			t.Fatalf("Resolve(%q, %q, %q) = %s, which is not offered", choice, uiLocales, acceptLanguage, got)
		}
		for _, l := range offered {
			if choice == l.String() {
				if got != l {
					t.Fatalf("the switcher chose %s, the page is in %s", l, got)
				}
			}
		}
	})
}

// FuzzChoices: the language switcher of any page links only to paths on
// this origin — never to another site, whatever the page's own address.
func FuzzChoices(f *testing.F) {
	for _, s := range []string{"/login?login_challenge=abc", "//evil.example/x", "/\\evil.example", "https://evil.example/", "/consent?consent_challenge=a&lang=xx", "/%2f%2fevil", "/a?b=%zz", "\x00", "/\t/evil.example"} {
		f.Add(s)
	}
	c, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	l := c.Localizer(Fallback)
	f.Fuzz(func(t *testing.T, self string) {
		for _, ch := range l.Choices(self) {
			u, err := url.Parse(ch.URL)
			if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(ch.URL, "/") ||
				strings.HasPrefix(ch.URL, "//") || strings.HasPrefix(ch.URL, "/\\") || strings.ContainsAny(ch.URL, "\t\r\n") {
				t.Fatalf("page %q links its switcher to %q", self, ch.URL)
			}
			if u.Query().Get(QueryParam) != ch.Tag {
				t.Fatalf("page %q: the %s link %q does not choose %s", self, ch.Name, ch.URL, ch.Tag)
			}
		}
	})
}

// FuzzFor: the language cookie a request may set holds only an offered
// language, whatever the lang parameter said.
func FuzzFor(f *testing.F) {
	f.Add("de", "fr", "da, en-GB;q=0.8")
	f.Add("de\r\nSet-Cookie: x=1", "", "")
	f.Add("xx", "", "")
	c, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	var offered []string
	for _, t := range c.Languages() {
		offered = append(offered, t.String())
	}
	f.Fuzz(func(t *testing.T, lang, cookie, acceptLanguage string) {
		r := httptest.NewRequest("GET", "/login?"+url.Values{QueryParam: {lang}}.Encode(), nil)
		r.Header.Set("Accept-Language", acceptLanguage)
		r.Header.Set("Cookie", "lang="+cookie)
		w := httptest.NewRecorder()
		l := c.For(w, r, "")
		if !slices.Contains(offered, l.Lang()) {
			t.Fatalf("page language %q is not offered", l.Lang())
		}
		for _, ck := range w.Result().Cookies() {
			if !slices.Contains(offered, ck.Value) {
				t.Fatalf("lang=%q set the cookie %s=%q", lang, ck.Name, ck.Value)
			}
		}
	})
}
