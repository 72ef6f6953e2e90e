package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReady(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		checks map[string]Check
		status int
		failed string
	}{
		{"all ready", map[string]Check{"postgres": ok, "hydra": ok}, 200, ""},
		{"postgres down", map[string]Check{"postgres": down, "hydra": ok}, 503, "postgres"},
		{"hydra hangs", map[string]Check{"postgres": ok, "hydra": slow}, 503, "hydra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Ready(tt.checks).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.5") {
				t.Error("a check's error reached the response")
			}
			var body struct {
				Checks map[string]string `json:"checks"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if tt.failed != "" && body.Checks[tt.failed] != "unavailable" {
				t.Errorf("checks = %v, want %s unavailable", body.Checks, tt.failed)
			}
		})
	}
}

func TestSelfCheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if err := SelfCheck(t.Context(), addr); err != nil {
		t.Errorf("ready service: %v", err)
	}
	ready = false
	if err := SelfCheck(t.Context(), addr); err == nil {
		t.Error("unready service passed")
	}
	if err := SelfCheck(t.Context(), "no-port"); err == nil {
		t.Error("bad LISTEN_ADDR passed")
	}
}
