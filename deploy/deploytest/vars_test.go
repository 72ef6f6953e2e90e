package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// serviceVars runs `<service> config-vars`, the service's own table of the
// environment variables it reads, and returns its rows and variable names
// (_FILE variants included).
func serviceVars(t *testing.T, service string) (rows []string, names []string) {
	t.Helper()
	cmd := exec.Command("go", "run", "./"+service, "config-vars")
	cmd.Dir = repoRoot(t)
	// The services build in the workspace, which this module's tests run
	// without (GOWORK=off).
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOWORK=") })
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s config-vars: %v", service, err)
	}
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	for _, row := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rows = append(rows, row)
		cells := strings.Split(row, "|")
		for _, m := range name.FindAllStringSubmatch(cells[2], -1) {
			names = append(names, m[1])
		}
	}
	if len(names) < 5 {
		t.Fatalf("%s config-vars printed too little:\n%s", service, out)
	}
	return rows, names
}

func TestComposeSetsOnlyVariablesTheServicesRead(t *testing.T) {
	p := loadCompose(t, composeEnv, "demo")
	for _, service := range []string{"consent-app", "mcp-server"} {
		_, names := serviceVars(t, service)
		for name, s := range p.Services {
			if name != service && !strings.HasPrefix(name, service+"-") {
				continue
			}
			for k := range s.Environment {
				if !slices.Contains(names, k) {
					t.Errorf("compose service %s sets %s, which %s does not read", name, k, service)
				}
			}
		}
	}
}

func TestHelmSetsOnlyVariablesTheServicesRead(t *testing.T) {
	m := mustRender(t, trialValues)
	for _, service := range []string{"consent-app", "mcp-server"} {
		_, names := serviceVars(t, service)
		for _, e := range m.deployments["mcp-"+service].Spec.Template.Spec.Containers[0].Env {
			if !slices.Contains(names, e.Name) {
				t.Errorf("the chart sets %s on %s, which does not read it", e.Name, service)
			}
		}
	}
}

func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	for _, service := range []string{"consent-app", "mcp-server"} {
		rows, _ := serviceVars(t, service)
		for _, row := range rows {
			if !slices.Contains(lines, row) {
				t.Errorf("README.md's Configuration table lacks or differs in this row (paste `go run ./%s config-vars`):\n%s", service, row)
			}
		}
		documented := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "| "+service+" | ") {
				documented++
			}
		}
		if documented != len(rows) {
			t.Errorf("README.md documents %d variables of %s, it reads %d", documented, service, len(rows))
		}
	}
}
