package appcookie

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSet(t *testing.T) {
	for _, secure := range []bool{false, true} {
		rec := httptest.NewRecorder()
		Set(rec, "lang", "de", 60, secure)
		c := rec.Result().Cookies()[0]
		want := map[bool]string{false: "lang", true: "__Host-lang"}[secure]
		if c.Name != want || c.Value != "de" || c.Path != "/" || c.MaxAge != 60 || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
			t.Errorf("secure=%v: %+v", secure, c)
		}
	}
}

func TestKey(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	a, b := Key(secret, "settings cookies"), Key(secret, "first-party client secret")
	if len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, Key(secret, "settings cookies")) || bytes.Equal(a, Key(secret+"x", "settings cookies")) {
		t.Errorf("keys: %x %x", a, b)
	}
}
