package deploytest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// trialValues are what a first install passes on the command line.
var trialValues = map[string]any{
	"secrets": map[string]any{
		"databaseURL":     "postgres://app:pw@postgres:5432/mcp_app?sslmode=require",
		"tokenHookAPIKey": "token-hook-key-for-tests",
		"cookieSecret":    "cookie-secret-for-tests-at-least-32-characters",
	},
}

// manifests holds every rendered object, strictly decoded.
type manifests struct {
	deployments  map[string]*appsv1.Deployment
	services     map[string]*corev1.Service
	pdbs         map[string]*policyv1.PodDisruptionBudget
	hpas         map[string]*autoscalingv2.HorizontalPodAutoscaler
	ingresses    map[string]*networkingv1.Ingress
	secrets      map[string]*corev1.Secret
	jobs         map[string]*batchv1.Job
	objectsTotal int
}

func render(t *testing.T, values map[string]any) (*manifests, error) {
	t.Helper()
	chart, err := loader.Load(filepath.Join(repoRoot(t), "deploy", "helm", "mcp-oauth"))
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ToRenderValues(chart, values,
		chartutil.ReleaseOptions{Name: "mcp", Namespace: "mcp", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	out, err := engine.Render(chart, vals)
	if err != nil {
		return nil, err
	}
	m := &manifests{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{},
		ingresses: map[string]*networkingv1.Ingress{}, secrets: map[string]*corev1.Secret{}, jobs: map[string]*batchv1.Job{},
	}
	docSep := regexp.MustCompile(`(?m)^---\s*$`)
	for name, text := range out {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range docSep.Split(text, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			if err := m.add(doc); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
		}
	}
	return m, nil
}

// add decodes one manifest strictly: an unknown or misplaced field fails.
func (m *manifests) add(doc string) error {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
		return err
	}
	var target any
	var name func() string
	switch meta.Kind {
	case "Deployment":
		o := &appsv1.Deployment{}
		target, name = o, func() string { m.deployments[o.Name] = o; return o.Name }
	case "Service":
		o := &corev1.Service{}
		target, name = o, func() string { m.services[o.Name] = o; return o.Name }
	case "PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		target, name = o, func() string { m.pdbs[o.Name] = o; return o.Name }
	case "HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		target, name = o, func() string { m.hpas[o.Name] = o; return o.Name }
	case "Ingress":
		o := &networkingv1.Ingress{}
		target, name = o, func() string { m.ingresses[o.Name] = o; return o.Name }
	case "Secret":
		o := &corev1.Secret{}
		target, name = o, func() string { m.secrets[o.Name] = o; return o.Name }
	case "Job":
		o := &batchv1.Job{}
		target, name = o, func() string { m.jobs[o.Name] = o; return o.Name }
	default:
		return fmt.Errorf("unexpected kind %q (apiVersion %q)", meta.Kind, meta.APIVersion)
	}
	if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
		return fmt.Errorf("strict decode %s: %w", meta.Kind, err)
	}
	if name() == "" {
		return fmt.Errorf("%s without a name", meta.Kind)
	}
	m.objectsTotal++
	return nil
}

func mustRender(t *testing.T, values map[string]any) *manifests {
	t.Helper()
	m, err := render(t, values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return m
}

func TestHelmDeployments(t *testing.T) {
	m := mustRender(t, trialValues)
	for _, name := range []string{"mcp-consent-app", "mcp-mcp-server"} {
		d := m.deployments[name]
		if d == nil {
			t.Fatalf("no Deployment %s among %v", name, keys(m.deployments))
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("%s replicas = %v, want 2", name, ptrString(d.Spec.Replicas))
		}
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s may run as root", name)
		}
		c := pod.Containers[0]
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s readiness probe = %+v", name, c.ReadinessProbe)
		}
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s liveness probe = %+v", name, c.LivenessProbe)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s has no resource requests", name)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
			if e.ValueFrom != nil {
				t.Errorf("%s: %s comes from a secretKeyRef; secrets are files (_FILE)", name, e.Name)
			}
		}
		if env["MODE"] != "production" || env["DATABASE_URL_FILE"] == "" || env["DATABASE_URL"] != "" {
			t.Errorf("%s env = %v", name, env)
		}
		if env["MCP_RESOURCE_URL"] != "https://mcp.example.com/mcp" {
			t.Errorf("%s MCP_RESOURCE_URL = %q", name, env["MCP_RESOURCE_URL"])
		}
		if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Secret != nil && v.Secret.SecretName == "mcp-secrets" }) {
			t.Errorf("%s does not mount the secrets", name)
		}
		if m.pdbs[name] == nil || m.pdbs[name].Spec.MinAvailable.IntValue() != 1 {
			t.Errorf("%s has no PodDisruptionBudget with minAvailable 1", name)
		}
		if m.services[name] == nil {
			t.Errorf("%s has no Service", name)
		}
	}
	if env := envOf(m.deployments["mcp-consent-app"]); env["TOKEN_HOOK_API_KEY_FILE"] == "" || env["PUBLIC_URL"] != "https://auth.example.com" {
		t.Errorf("consent app env = %v", env)
	}
	if env := envOf(m.deployments["mcp-mcp-server"]); env["AUTH_ISSUER"] != "https://auth.example.com" || env["TOKEN_HOOK_API_KEY_FILE"] != "" {
		t.Errorf("MCP server env = %v", env)
	}
	if len(m.hpas) != 0 {
		t.Errorf("autoscalers rendered although disabled: %v", keys(m.hpas))
	}
}

func TestHelmAutoscaling(t *testing.T) {
	m := mustRender(t, merge(trialValues, map[string]any{"mcpServer": map[string]any{"autoscaling": map[string]any{"enabled": true}}}))
	h := m.hpas["mcp-mcp-server"]
	if h == nil || h.Spec.ScaleTargetRef.Name != "mcp-mcp-server" || *h.Spec.MinReplicas != 2 {
		t.Fatalf("HPA = %+v", h)
	}
	if m.deployments["mcp-mcp-server"].Spec.Replicas != nil {
		t.Error("the Deployment pins replicas while an HPA scales it")
	}
	if m.hpas["mcp-consent-app"] != nil {
		t.Error("the consent app got an HPA it did not ask for")
	}
}

func TestHelmIngress(t *testing.T) {
	m := mustRender(t, trialValues)
	ing := m.ingresses["mcp"]
	if ing == nil {
		t.Fatalf("no Ingress among %v", keys(m.ingresses))
	}
	routes := map[string]string{}
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			routes[r.Host+p.Path] = p.Backend.Service.Name
		}
	}
	want := map[string]string{
		"auth.example.com/":   "mcp-consent-app",
		"mcp.example.com/mcp": "mcp-mcp-server",
		"mcp.example.com/.well-known/oauth-protected-resource": "mcp-mcp-server",
	}
	if len(routes) != len(want) {
		t.Errorf("routes = %v, want %v", routes, want)
	}
	for k, v := range want {
		if routes[k] != v {
			t.Errorf("route %s -> %q, want %q", k, routes[k], v)
		}
	}
}

func TestHelmSecretsAndMigration(t *testing.T) {
	m := mustRender(t, trialValues)
	s := m.secrets["mcp-secrets"]
	if s == nil {
		t.Fatalf("no Secret among %v", keys(m.secrets))
	}
	for _, k := range []string{"database-url", "token-hook-api-key", "cookie-secret"} {
		if s.StringData[k] == "" {
			t.Errorf("secret lacks %s", k)
		}
	}
	job := m.jobs["mcp-migrate"]
	if job == nil {
		t.Fatalf("no migration Job among %v", keys(m.jobs))
	}
	if hook := job.Annotations["helm.sh/hook"]; hook != "pre-install,pre-upgrade" {
		t.Errorf("migration hook = %q", hook)
	}
	if s.Annotations["helm.sh/hook-weight"] >= job.Annotations["helm.sh/hook-weight"] && s.Annotations["helm.sh/hook-weight"] != "-10" {
		t.Error("the Secret is not created before the migration Job")
	}
	pod := job.Spec.Template.Spec
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Args[0] != "migrate" || pod.Containers[0].Args[0] != "migrate" {
		t.Errorf("migration containers = %+v / %+v", pod.InitContainers, pod.Containers)
	}
	if !strings.Contains(pod.InitContainers[0].Image, "consent-app") || !strings.Contains(pod.Containers[0].Image, "mcp-server") {
		t.Error("the consent app's migrations must run before the MCP server's")
	}

	// With an existing Secret the chart creates none and uses it.
	m = mustRender(t, map[string]any{"secrets": map[string]any{"existingSecret": "prod-secrets"}})
	if len(m.secrets) != 0 {
		t.Errorf("a Secret was created although one exists: %v", keys(m.secrets))
	}
	if got := m.deployments["mcp-mcp-server"].Spec.Template.Spec.Volumes[0].Secret.SecretName; got != "prod-secrets" {
		t.Errorf("mounted secret = %q", got)
	}
}

func TestHelmHydraSecret(t *testing.T) {
	m := mustRender(t, trialValues)
	if _, ok := m.secrets["mcp-hydra"]; ok {
		t.Error("a Hydra Secret was created without Hydra secrets")
	}
	m = mustRender(t, merge(trialValues, map[string]any{"secrets": map[string]any{
		"databaseURL": "postgres://app@db/app", "tokenHookAPIKey": "k", "cookieSecret": "c",
		"hydraDSN": "postgres://hydra@db/hydra", "hydraSystemSecret": strings.Repeat("s", 32), "hydraCookieSecret": strings.Repeat("c", 32),
	}}))
	s := m.secrets["mcp-hydra"]
	if s == nil {
		t.Fatalf("no Hydra Secret among %v", keys(m.secrets))
	}
	// The keys Ory's chart reads (hydra-values.yaml names this Secret).
	for _, k := range []string{"dsn", "secretsSystem", "secretsCookie"} {
		if s.StringData[k] == "" {
			t.Errorf("Hydra Secret lacks %s", k)
		}
	}
	if s.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Error("the Hydra Secret would be deleted on uninstall, and Hydra's keys with it")
	}
	_, err := render(t, merge(trialValues, map[string]any{"secrets": map[string]any{
		"databaseURL": "postgres://app@db/app", "tokenHookAPIKey": "k", "cookieSecret": "c", "hydraDSN": "postgres://hydra@db/hydra",
	}}))
	if err == nil || !strings.Contains(err.Error(), "secrets.hydraSystemSecret is required") {
		t.Errorf("a partial Hydra Secret rendered: %v", err)
	}
}

func TestHelmRefusesMissingSecrets(t *testing.T) {
	_, err := render(t, nil)
	if err == nil || !strings.Contains(err.Error(), "secrets.databaseURL is required") {
		t.Errorf("render without secrets: %v", err)
	}
}

func envOf(d *appsv1.Deployment) map[string]string {
	env := map[string]string{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	return env
}

func keys[V any](m map[string]V) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	slices.Sort(k)
	return k
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
