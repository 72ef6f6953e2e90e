// Package envconfig reads a service's configuration from environment
// variables declared once, in a table: the same table documents every
// variable (README), and reading an undeclared one is a programming error.
//
// Secrets may be given as files: NAME_FILE names a file whose content (less a
// trailing newline) is the value, as container orchestrators mount secrets.
package envconfig

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Var declares one environment variable.
type Var struct {
	Name string
	// Default is used when the variable is unset or empty; "" means none.
	Default string
	// Meaning is one sentence for the README's table.
	Meaning string
	// Secret variables may be given as NAME_FILE and are never printed.
	Secret bool
}

// Source reads declared variables. It collects every problem it meets, so
// that a service reports them all at once.
type Source struct {
	vars   []Var
	getenv func(string) string
	errs   []error
}

// New returns a Source over vars; getenv nil means os.Getenv.
func New(vars []Var, getenv func(string) string) *Source {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &Source{vars: vars, getenv: getenv}
}

// String returns the variable's value, or its default.
func (s *Source) String(name string) string {
	i := slices.IndexFunc(s.vars, func(v Var) bool { return v.Name == name })
	if i < 0 {
		panic("envconfig: undeclared variable " + name)
	}
	v := s.vars[i]
	val := s.getenv(name)
	if v.Secret {
		if file := s.getenv(name + "_FILE"); file != "" {
			if val != "" {
				s.errs = append(s.errs, fmt.Errorf("%s and %s_FILE are both set; set one", name, name))
				return val
			}
			b, err := os.ReadFile(file)
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("%s_FILE: %v", name, errors.Unwrap(err)))
				return ""
			}
			val = strings.TrimRight(string(b), "\r\n")
		}
	}
	if val == "" {
		return v.Default
	}
	return val
}

// Bool returns the variable as a boolean: "true" or "1" is true, "false",
// "0" or empty is false, anything else is an error.
func (s *Source) Bool(name string) bool {
	switch val := s.String(name); val {
	case "true", "1":
		return true
	case "", "false", "0":
		return false
	default:
		s.errs = append(s.errs, fmt.Errorf("%s must be true or false, got %q", name, val))
		return false
	}
}

// Duration returns the variable as a time.Duration (90m, 24h, 30s); an
// unparsable value is an error, and zero.
func (s *Source) Duration(name string) time.Duration {
	val := s.String(name)
	d, err := time.ParseDuration(val)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s %q: want a duration such as 30s, 90m or 24h", name, val))
	}
	return d
}

// List returns a comma-separated variable's non-empty items.
func (s *Source) List(name string) []string {
	var out []string
	for f := range strings.SplitSeq(s.String(name), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Err returns the problems met while reading, joined.
func (s *Source) Err() error { return errors.Join(s.errs...) }

// Markdown renders the variables as rows of the README's table:
// | service | variable | default | meaning |.
func Markdown(service string, vars []Var) string {
	var b strings.Builder
	for _, v := range vars {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		name := "`" + v.Name + "`"
		if v.Secret {
			name += " (or `" + v.Name + "_FILE`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", service, name, def, v.Meaning)
	}
	return b.String()
}

// Names lists every variable a service reads, _FILE variants included.
func Names(vars []Var) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name)
		if v.Secret {
			out = append(out, v.Name+"_FILE")
		}
	}
	return out
}
