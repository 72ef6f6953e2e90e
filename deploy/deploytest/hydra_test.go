package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestHydraChartValuesMatchLocalConfig holds the values for Ory's chart to
// hydra/hydra.yml, the configuration every local run and test uses: the two
// must not drift apart on anything but addresses and secrets.
func TestHydraChartValuesMatchLocalConfig(t *testing.T) {
	local := loadYAML(t, filepath.Join(repoRoot(t), "hydra", "hydra.yml"))
	values := loadYAML(t, filepath.Join(repoRoot(t), "deploy", "helm", "hydra-values.yaml"))
	chart, _ := dig(values, "hydra.config").(map[string]any)
	if chart == nil {
		t.Fatal("hydra-values.yaml has no hydra.config")
	}
	for _, key := range []string{
		"oauth2.pkce.enforced",
		"oauth2.token_hook.auth.type",
		"oauth2.token_hook.auth.config.in",
		"oauth2.token_hook.auth.config.name",
		"oidc.dynamic_client_registration.enabled",
		"oidc.subject_identifiers.supported_types",
		"ttl.access_token",
		"ttl.refresh_token",
		"ttl.auth_code",
		"ttl.login_consent_request",
		"strategies.access_token",
		"log.level",
		"log.leak_sensitive_values",
	} {
		l, c := dig(local, key), dig(chart, key)
		if l == nil || yamlString(t, l) != yamlString(t, c) {
			t.Errorf("%s: hydra.yml has %v, hydra-values.yaml has %v", key, l, c)
		}
	}
	// The flow URLs are the issuer's paths in both.
	for _, key := range []string{"urls.login", "urls.consent", "urls.logout", "urls.error", "webfinger.oidc_discovery.client_registration_url", "oauth2.token_hook.url"} {
		l, _ := dig(local, key).(string)
		c, _ := dig(chart, key).(string)
		if l == "" || c == "" || path(l) != path(c) {
			t.Errorf("%s: hydra.yml has %q, hydra-values.yaml has %q: the paths differ", key, l, c)
		}
	}
	if dig(values, "image.tag") != "v2.3.0" {
		t.Errorf("Hydra image tag = %v, want v2.3.0", dig(values, "image.tag"))
	}
	if dig(values, "secret.enabled") != false || dig(values, "secret.nameOverride") != "mcp-oauth-hydra" {
		t.Error("Ory's chart must read the Secret the mcp-oauth chart (release mcp-oauth) creates")
	}
	if dig(values, "hydra.dev") != false {
		t.Error("the chart's Hydra must not run with --dev")
	}
}

func loadYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

func dig(m map[string]any, dotted string) any {
	var cur any = m
	for _, k := range strings.Split(dotted, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func yamlString(t *testing.T, v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// path drops scheme and host: what stays must be the same everywhere.
func path(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.Index(u, "/"); i >= 0 {
		return u[i:]
	}
	return "/"
}
