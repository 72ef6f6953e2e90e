package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// repoRoot is the repository checkout: this package lives in deploy/deploytest.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// composeEnv is what a user's .env provides (scripts/compose-env writes one).
var composeEnv = []string{
	"POSTGRES_PASSWORD=pg-password-for-tests",
	"HYDRA_SECRETS_SYSTEM=hydra-system-secret-at-least-32-characters",
	"TOKEN_HOOK_API_KEY=token-hook-key-for-tests",
	"COOKIE_SECRET=cookie-secret-for-tests-at-least-32-characters",
}

func loadCompose(t *testing.T, env []string, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot(t)), cli.WithEnv(env), cli.WithProfiles(profiles), cli.WithName("mcp-oauth"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, composeEnv, "demo")
	want := []string{"consent-app", "consent-app-migrate", "consent-app-seed-demo", "hydra", "hydra-migrate",
		"mcp-server", "mcp-server-migrate", "mcp-server-seed-demo", "postgres"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services = %v, want %v", sorted(got), want)
	}

	images := map[string]string{"postgres": "postgres:17-alpine", "hydra": "oryd/hydra:v2.3.0", "hydra-migrate": "oryd/hydra:v2.3.0"}
	for name, image := range images {
		if got := p.Services[name].Image; got != image {
			t.Errorf("%s image = %q, want %q", name, got, image)
		}
	}
	for name, s := range p.Services {
		service := strings.TrimSuffix(strings.TrimSuffix(name, "-migrate"), "-seed-demo")
		if service != "consent-app" && service != "mcp-server" {
			continue
		}
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" || s.Build.Args["SERVICE"] == nil || *s.Build.Args["SERVICE"] != service {
			t.Errorf("%s is not built from deploy/Dockerfile with SERVICE=%s: %+v", name, service, s.Build)
		}
	}
}

func TestComposeHealthAndOrder(t *testing.T) {
	p := loadCompose(t, composeEnv, "demo")
	for _, name := range []string{"postgres", "hydra", "consent-app", "mcp-server"} {
		hc := p.Services[name].HealthCheck
		if hc == nil || len(hc.Test) == 0 || hc.Disable {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	// Distroless images have no shell: the services check themselves.
	for _, name := range []string{"consent-app", "mcp-server"} {
		if got := p.Services[name].HealthCheck.Test; !slices.Equal(got, []string{"CMD", "/service", "healthcheck"}) {
			t.Errorf("%s healthcheck = %v", name, got)
		}
	}
	wantDeps := map[string]map[string]string{
		"hydra-migrate":         {"postgres": types.ServiceConditionHealthy},
		"hydra":                 {"hydra-migrate": types.ServiceConditionCompletedSuccessfully},
		"consent-app-migrate":   {"postgres": types.ServiceConditionHealthy},
		"mcp-server-migrate":    {"consent-app-migrate": types.ServiceConditionCompletedSuccessfully},
		"consent-app":           {"consent-app-migrate": types.ServiceConditionCompletedSuccessfully, "hydra": types.ServiceConditionHealthy},
		"mcp-server":            {"mcp-server-migrate": types.ServiceConditionCompletedSuccessfully, "hydra": types.ServiceConditionHealthy},
		"consent-app-seed-demo": {"consent-app-migrate": types.ServiceConditionCompletedSuccessfully},
		"mcp-server-seed-demo":  {"mcp-server-migrate": types.ServiceConditionCompletedSuccessfully, "consent-app-seed-demo": types.ServiceConditionCompletedSuccessfully},
	}
	for name, deps := range wantDeps {
		got := map[string]string{}
		for dep, cfg := range p.Services[name].DependsOn {
			got[dep] = cfg.Condition
		}
		if len(got) != len(deps) {
			t.Errorf("%s depends on %v, want %v", name, got, deps)
		}
		for dep, cond := range deps {
			if got[dep] != cond {
				t.Errorf("%s depends on %s with %q, want %q", name, dep, got[dep], cond)
			}
		}
	}
}

func TestComposePublishesOnlyAuthOriginAndMCP(t *testing.T) {
	p := loadCompose(t, composeEnv, "demo")
	published := map[string][]string{}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			published[name] = append(published[name], port.Published+"->"+itoa(port.Target))
		}
		if len(s.Expose) > 0 {
			t.Errorf("%s exposes %v", name, s.Expose)
		}
	}
	want := map[string][]string{"consent-app": {"3000->3000"}, "mcp-server": {"8080->8080"}}
	if len(published) != len(want) {
		t.Errorf("published ports = %v, want %v", published, want)
	}
	for name, ports := range want {
		if !slices.Equal(published[name], ports) {
			t.Errorf("%s publishes %v, want %v", name, published[name], ports)
		}
	}
}

func TestComposeSeedingIsOptional(t *testing.T) {
	p := loadCompose(t, composeEnv)
	for name := range p.Services {
		if strings.HasSuffix(name, "seed-demo") {
			t.Errorf("%s runs without the demo profile", name)
		}
	}
}

func TestComposeRequiresSecrets(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot(t)), cli.WithEnv(nil), cli.WithName("mcp-oauth"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := opts.LoadProject(t.Context()); err == nil || !strings.Contains(err.Error(), "set POSTGRES_PASSWORD in .env") {
		t.Errorf("loading without .env: %v, want the missing-secret message", err)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	froms := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(df, -1)
	if len(froms) != 2 {
		t.Errorf("want a two-stage build, got %d FROM lines", len(froms))
	}
	for _, want := range []string{"CGO_ENABLED=0", "FROM gcr.io/distroless/static-debian12:nonroot", "USER nonroot:nonroot", "-trimpath"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", ".data", "hydra/bin", "e2e"} {
		if !slices.Contains(strings.Fields(string(ignore)), want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }
