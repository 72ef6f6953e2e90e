package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mcp-oauth/e2e/internal/proc"
)

// binaries are the executables a stack runs.
type binaries struct {
	hydra, consentApp, mcpServer string
}

// serviceModules are built with the workspace; "/..." finds each module's
// main package wherever it lives (module root or cmd/<name>), and go build
// -o <dir>/ names the binary after that package's folder.
var serviceModules = []string{"github.com/mcp-oauth/consent-app/...", "github.com/mcp-oauth/mcp-server/..."}

// build makes sure every binary is current. Hydra comes from
// scripts/build-hydra (a no-op when cached); the services from go build into
// <root>/.bin, which relinks nothing when they are up to date.
func build(ctx context.Context, root, logDir string) (binaries, error) {
	binDir := filepath.Join(root, ".bin")
	bins := binaries{
		hydra:      filepath.Join(root, "hydra", "bin", "hydra"),
		consentApp: filepath.Join(binDir, "consent-app"),
		mcpServer:  filepath.Join(binDir, "mcp-server"),
	}
	err := proc.Run(ctx, proc.Spec{
		Name:    "scripts/build-hydra",
		Path:    "bash",
		Args:    []string{filepath.Join(root, "scripts", "build-hydra")},
		Dir:     root,
		LogPath: filepath.Join(logDir, "build-hydra.log"),
	})
	if err != nil {
		return bins, err
	}
	// Parallel test packages build at the same time; one at a time lets the
	// later ones find the binaries current instead of rewriting them while
	// the first package already runs them.
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return bins, err
	}
	lock, err := os.OpenFile(filepath.Join(binDir, ".build.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return bins, err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return bins, err
	}
	err = proc.Run(ctx, proc.Spec{
		Name: "go build",
		Path: "go",
		Args: append([]string{"build", "-o", binDir + string(filepath.Separator)}, serviceModules...),
		// The caller may run with GOWORK=off (as Hydra's build does); the
		// services need the workspace to find catalog.
		Env:     append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work")),
		Dir:     root,
		LogPath: filepath.Join(logDir, "go-build.log"),
	})
	if err != nil {
		return bins, err
	}
	for _, b := range []string{bins.consentApp, bins.mcpServer} {
		if _, err := os.Stat(b); err != nil {
			return bins, fmt.Errorf("go build made no %s (is there a main package named %q?)", b, filepath.Base(b))
		}
	}
	return bins, nil
}

// FindRepoRoot returns the folder holding go.work, looking in dir and its
// parents; dir "" = the working directory.
func FindRepoRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work in %s or its parents: run from inside the repository", dir)
		}
	}
}
