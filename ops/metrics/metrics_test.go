package metrics

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServeAndObserve(t *testing.T) {
	reg := NewRegistry()
	h := NewHTTP(reg)
	h.Observe("/consent", 200, 3*time.Millisecond)
	h.Observe("", 404, time.Millisecond)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := Serve(t.Context(), addr, reg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`http_requests_total{route="/consent",status="200"} 1`,
		`http_requests_total{route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{route="/consent",le="0.005"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestServeDisabled(t *testing.T) {
	if err := Serve(t.Context(), "", NewRegistry(), slog.Default()); err != nil {
		t.Error(err)
	}
}
