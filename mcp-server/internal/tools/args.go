package tools

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Argument rules shared by the tools. The schemas state them so that a
// model sees them up front and the SDK enforces them; the handlers check
// what a schema cannot (dates, decimals, blank text).

// defaultPageSize is the page size when a list call gives no limit.
const defaultPageSize = 20

// maxText bounds free-text arguments (names, descriptions).
const maxText = 200

// Years a date argument may fall in; numbers carry the year.
const minYear, maxYear = 2000, 2099

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// pageSize returns the page size for a limit argument (0 when absent).
func pageSize(limit int) int {
	if limit == 0 {
		return defaultPageSize
	}
	return limit
}

func limitSchema(props map[string]*jsonschema.Schema) {
	bounds(props["limit"], 1, store.MaxPageSize)
}

func currencySchema(s *jsonschema.Schema) {
	s.Pattern = currencyPattern.String()
}

func dateSchema(s *jsonschema.Schema) {
	s.Format = "date"
}

// argError is a tool error about one argument: what is wrong and how to fix it.
func argError(name, format string, a ...any) error {
	return fmt.Errorf("invalid argument %s: %s", name, fmt.Sprintf(format, a...))
}

// parseDate reads an optional YYYY-MM-DD argument; "" gives the zero time.
func parseDate(name, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, value)
	if err != nil {
		return time.Time{}, argError(name, "%q is not a date; use YYYY-MM-DD, for example 2026-03-31", value)
	}
	if d.Year() < minYear || d.Year() > maxYear {
		return time.Time{}, argError(name, "%s is outside the years %d to %d", value, minYear, maxYear)
	}
	return d, nil
}

// requiredText trims a required free-text argument and checks it is there.
func requiredText(name, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", argError(name, "must not be empty")
	}
	if len([]rune(v)) > maxText {
		return "", argError(name, "is longer than %d characters", maxText)
	}
	return v, nil
}

func checkCurrency(value string) error {
	if !currencyPattern.MatchString(value) {
		return argError("currency", "%q is not an ISO 4217 code; use three capital letters such as USD or EUR", value)
	}
	return nil
}

func today(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func formatDate(t time.Time) string { return t.Format(time.DateOnly) }
