package oautherr

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, tt := range []struct {
		name        string
		write       func(w http.ResponseWriter)
		status      int
		body, retry string
	}{
		{"with description", func(w http.ResponseWriter) { Write(w, 400, New(InvalidRequest, "no")) }, 400,
			`{"error":"invalid_request","error_description":"no"}` + "\n", ""},
		{"without description", func(w http.ResponseWriter) { Write(w, 503, New(TemporarilyUnavailable, "")) }, 503,
			`{"error":"temporarily_unavailable"}` + "\n", ""},
		{"unavailable", func(w http.ResponseWriter) { Unavailable(w, "later") }, 503,
			`{"error":"temporarily_unavailable","error_description":"later"}` + "\n", "5"},
	} {
		rec := httptest.NewRecorder()
		tt.write(rec)
		if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Retry-After") != tt.retry ||
			rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %q Retry-After %q Content-Type %q", tt.name, rec.Code, rec.Body, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"))
		}
	}
}
