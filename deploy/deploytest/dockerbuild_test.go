package deploytest

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerfileBuildStage runs the Dockerfile's build stage without a
// container engine: its COPY lines copy from the repository, as the build
// context filtered by .dockerignore, into an empty folder, and its RUN lines
// run there. A module the image needs but the Dockerfile does not copy (a
// replace directive pointing at a folder left out) fails here as it would in
// `docker build`.
func TestDockerfileBuildStage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is not on PATH")
	}
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ignore := dockerignore(t, root)
	for _, service := range []string{"consent-app", "mcp-server"} {
		t.Run(service, func(t *testing.T) {
			work := t.TempDir()
			out := t.TempDir()
			for _, ins := range buildStage(string(b)) {
				args := strings.ReplaceAll(ins.args, "${SERVICE}", service)
				switch ins.op {
				case "COPY":
					f := strings.Fields(args)
					for _, src := range f[:len(f)-1] {
						copyContext(t, root, src, work, f[len(f)-1], ignore)
					}
				case "RUN":
					// The binary goes to a folder of the test's, not /out.
					cmd := exec.Command("bash", "-c", strings.ReplaceAll(args, "/out/", out+"/"))
					cmd.Dir = work
					cmd.Env = append(os.Environ(), "SERVICE="+service)
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("RUN %s: %v\n%s", args, err, b)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(out, "service")); err != nil {
				t.Errorf("the build stage made no binary: %v", err)
			}
		})
	}
}

type instruction struct{ op, args string }

// buildStage returns the instructions of the Dockerfile's first stage, with
// continuation lines joined and comments dropped.
func buildStage(df string) []instruction {
	var out []instruction
	var cur string
	froms := 0
	for line := range strings.Lines(df) {
		line = strings.TrimSpace(line)
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, cur = cur+line, ""
		op, args, _ := strings.Cut(line, " ")
		if op == "FROM" {
			if froms++; froms > 1 {
				break
			}
		}
		out = append(out, instruction{op, args})
	}
	return out
}

// dockerignore reads the patterns of .dockerignore.
func dockerignore(t *testing.T, root string) []string {
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			pats = append(pats, line)
		}
	}
	return pats
}

// ignored reports whether rel (slash-separated, relative to the context)
// is left out of the build context: a pattern names it or a parent folder,
// or, as **/pattern, its base name.
func ignored(rel string, pats []string) bool {
	for _, p := range pats {
		if base, ok := strings.CutPrefix(p, "**/"); ok {
			if m, _ := filepath.Match(base, filepath.Base(rel)); m {
				return true
			}
			continue
		}
		for dir := rel; dir != "." && dir != "/"; dir = filepath.Dir(dir) {
			if m, _ := filepath.Match(p, dir); m {
				return true
			}
		}
	}
	return false
}

// copyContext copies src of the build context to dst under work as COPY
// does: a file into dst (a folder when dst ends in /), a folder's contents
// into dst.
func copyContext(t *testing.T, root, src, work, dst string, pats []string) {
	t.Helper()
	to := filepath.Join(work, dst)
	from := filepath.Join(root, src)
	info, err := os.Stat(from)
	if err != nil || ignored(strings.TrimSuffix(src, "/"), pats) {
		t.Fatalf("COPY %s: not in the build context (%v)", src, err)
	}
	if !info.IsDir() {
		if strings.HasSuffix(dst, "/") || isDir(to) {
			to = filepath.Join(to, filepath.Base(from))
		}
		copyFile(t, from, to)
		return
	}
	err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if ignored(filepath.ToSlash(rel), pats) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		inside, _ := filepath.Rel(from, p)
		copyFile(t, p, filepath.Join(to, inside))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
