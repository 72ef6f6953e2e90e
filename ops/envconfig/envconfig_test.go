package envconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var vars = []Var{
	{Name: "ADDR", Default: "localhost:3000", Meaning: "where to listen"},
	{Name: "TOKEN", Meaning: "a secret", Secret: true},
	{Name: "FLAG", Meaning: "a switch"},
	{Name: "LIST", Meaning: "a list"},
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestString(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "token")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		key     string
		want    string
		wantErr string
	}{
		{"default", nil, "ADDR", "localhost:3000", ""},
		{"set", map[string]string{"ADDR": ":9"}, "ADDR", ":9", ""},
		{"secret from env", map[string]string{"TOKEN": "t"}, "TOKEN", "t", ""},
		{"secret from file, newline trimmed", map[string]string{"TOKEN_FILE": secretFile}, "TOKEN", "from-file", ""},
		{"both set", map[string]string{"TOKEN": "t", "TOKEN_FILE": secretFile}, "TOKEN", "t", "TOKEN and TOKEN_FILE are both set"},
		{"missing file", map[string]string{"TOKEN_FILE": filepath.Join(dir, "nope")}, "TOKEN", "", "TOKEN_FILE: no such file"},
		{"no _FILE for non-secrets", map[string]string{"ADDR_FILE": secretFile}, "ADDR", "localhost:3000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(vars, env(tt.env))
			if got := s.String(tt.key); got != tt.want {
				t.Errorf("String(%s) = %q, want %q", tt.key, got, tt.want)
			}
			err := s.Err()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Err() = %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "from-file") {
				t.Error("an error leaks the secret")
			}
		})
	}
}

func TestBoolAndList(t *testing.T) {
	s := New(vars, env(map[string]string{"FLAG": "yes", "LIST": " a, ,b "}))
	if s.Bool("FLAG") || s.Err() == nil {
		t.Error("FLAG=yes was accepted")
	}
	if got := s.List("LIST"); strings.Join(got, "|") != "a|b" {
		t.Errorf("List = %q", got)
	}
}

func TestDuration(t *testing.T) {
	s := New(vars, env(map[string]string{"ADDR": "90m"}))
	if d := s.Duration("ADDR"); d != 90*time.Minute || s.Err() != nil {
		t.Errorf("Duration(90m) = %v, %v", d, s.Err())
	}
	s = New(vars, env(map[string]string{"ADDR": "ninety"}))
	if d := s.Duration("ADDR"); d != 0 || s.Err() == nil || !strings.Contains(s.Err().Error(), `ADDR "ninety": want a duration`) {
		t.Errorf("Duration(ninety) = %v, %v", d, s.Err())
	}
}

func TestUndeclaredPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading an undeclared variable did not panic")
		}
	}()
	New(vars, env(nil)).String("NOPE")
}

func TestMarkdownAndNames(t *testing.T) {
	md := Markdown("svc", vars)
	if !strings.Contains(md, "| svc | `ADDR` | `localhost:3000` | where to listen |") ||
		!strings.Contains(md, "| svc | `TOKEN` (or `TOKEN_FILE`) | — | a secret |") {
		t.Errorf("Markdown:\n%s", md)
	}
	if got := strings.Join(Names(vars), " "); got != "ADDR TOKEN TOKEN_FILE FLAG LIST" {
		t.Errorf("Names = %s", got)
	}
}

func TestCheckPublicURL(t *testing.T) {
	tests := []struct {
		mode Mode
		url  string
		ok   bool
	}{
		{Production, "https://auth.example.com", true},
		{Production, "http://localhost:3000", false},
		{Development, "http://localhost:3000", true},
		{Development, "http://127.0.0.1:8080/mcp", true},
		{Development, "http://auth.example.com", false},
		{Development, "ftp://localhost", false},
		{Production, "auth.example.com", false},
		{Production, "https://user:pw@auth.example.com", false},
		{Production, "https://mcp.example.com/mcp?x=1", false},
		{Production, "https://mcp.example.com/mcp?", false},
		{Production, "https://mcp.example.com/mcp#", false},
		{Development, "http://[::1]:8080/mcp", true},
	}
	for _, tt := range tests {
		if err := CheckPublicURL(tt.mode, "X", tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckPublicURL(%s, %s) = %v, want ok=%v", tt.mode, tt.url, err, tt.ok)
		}
	}
	if _, err := ParseMode("staging"); err == nil {
		t.Error("MODE=staging accepted")
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4445", true},
		{"https://hydra-admin.internal/", true},
		{"127.0.0.1:4445", false},
		{"ftp://hydra", false},
		{"/admin", false},
		{"http://", false},
	}
	for _, tt := range tests {
		if err := CheckURL("HYDRA_ADMIN_URL", tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckURL(%s) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestCheckDatabaseURL(t *testing.T) {
	tests := []struct {
		url, wantErr string
	}{
		{"postgres://app@localhost:5432/app", ""},
		{"host=localhost dbname=app", ""},
		{"", "DATABASE_URL is required"},
		{"postgres://app:s3cret@host:notaport/app", "DATABASE_URL is not a valid PostgreSQL connection string"},
	}
	for _, tt := range tests {
		err := CheckDatabaseURL(tt.url)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckDatabaseURL(%q) = %v, want %q", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("CheckDatabaseURL quotes the password: %v", err)
		}
	}
}
