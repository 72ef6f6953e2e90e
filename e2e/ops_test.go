package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOperations checks what operators rely on: readiness, request ids, and
// metrics on their own listener only.
func TestOperations(t *testing.T) {
	// One registration, consent and token exchange for the counters below.
	if _, err := connect(t, as(alice, "Acme Corp")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(st.IssuerURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hydra_admin":"ok"`) || !strings.Contains(string(body), `"postgres":"ok"`) {
		t.Errorf("consent app /readyz: HTTP %d %s", resp.StatusCode, body)
	}
	if id := resp.Header.Get("X-Request-Id"); id == "" {
		t.Error("no X-Request-Id on the response")
	}

	// The public listener has no metrics; the metrics listener has them.
	if resp, err := http.Get(st.IssuerURL + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %v %v, want 404", err, resp.Status)
	}
	metrics := scrape(t, st.Ports.ConsentAppMetrics)
	for _, want := range []string{
		`http_requests_total{route="/readyz",status="200"}`,
		`client_registrations_total{outcome="created"}`,
		`consent_outcomes_total{outcome="granted"}`,
		`token_hook_decisions_total{decision="allowed"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("consent app metrics lack %s", want)
		}
	}
}

func scrape(t *testing.T, port int) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
