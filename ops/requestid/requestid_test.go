package requestid

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "handled")
	}))
	tests := []struct {
		name, incoming string
		keep           bool
	}{
		{"none", "", false},
		{"proxy's id", "abc-123.DEF_4", true},
		{"log injection", "x\n{\"level\":\"ERROR\"}", false},
		{"too long", strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		buf.Reset()
		req := httptest.NewRequest("GET", "/", nil)
		if tt.incoming != "" {
			req.Header.Set(Header, tt.incoming)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get(Header)
		if id == "" || (id == tt.incoming) != tt.keep {
			t.Errorf("%s: id %q", tt.name, id)
		}
		if !strings.Contains(buf.String(), `"request_id":"`+id+`"`) {
			t.Errorf("%s: log line %s lacks the id", tt.name, buf.String())
		}
	}
}
