package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDebugRequestLog: at debug level every request is logged by route and
// status, never with its query or headers, where credentials travel.
func TestDebugRequestLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		h := Handler(Options{
			Resource: "http://localhost:8080/mcp",
			Issuer:   issuer,
			Gate:     func(http.Handler) http.Handler { return http.NotFoundHandler() },
			Logger:   slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})),
		})
		req := httptest.NewRequest(http.MethodGet, "/.well-known/oauth-protected-resource/mcp?access_token=query-credential", nil)
		req.Header.Set("Authorization", "Bearer header-credential")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("metadata: HTTP %d", rec.Code)
		}
		line := buf.String()
		if level == slog.LevelInfo {
			if line != "" {
				t.Errorf("at info, a request was logged: %s", line)
			}
			continue
		}
		for _, want := range []string{`"msg":"request"`, `"route":"GET /.well-known/oauth-protected-resource/mcp"`, `"status":200`, `"method":"GET"`} {
			if !strings.Contains(line, want) {
				t.Errorf("debug request line lacks %s: %s", want, line)
			}
		}
		if strings.Contains(line, "credential") {
			t.Errorf("debug request line holds the query or a header: %s", line)
		}
	}
}
