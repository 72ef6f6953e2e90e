package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadCursor is returned for a cursor this server did not produce for the
// listing it is passed to.
var ErrBadCursor = errors.New("invalid cursor")

// position is the keyset position after the last row of a page. Every
// listing is ordered by (date, key) descending, which is unique per team. A
// cursor is only a position: the team always comes from the caller, so a
// cursor from another team's listing shows nothing of that team.
type position struct {
	Kind string `json:"k"` // which listing made it
	Date string `json:"d"`
	Key  string `json:"n"`
}

// encodeCursor returns the cursor for the page after (date, key) of kind.
func encodeCursor(kind string, date time.Time, key string) string {
	b, _ := json.Marshal(position{Kind: kind, Date: date.Format(time.DateOnly), Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the position a cursor of kind holds; nil for "" (the
// first page).
func decodeCursor(kind, cursor string) (*position, error) {
	if cursor == "" {
		return nil, nil
	}
	var p position
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &p) != nil || p.Kind != kind || p.Key == "" {
		return nil, ErrBadCursor
	}
	if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
		return nil, ErrBadCursor
	}
	return &p, nil
}

// after returns the two query arguments of a keyset condition of the form
// ($n::date IS NULL OR (date, key) < ($n::date, $m::text)): both NULL on
// the first page.
func (p *position) after() (date, key *string) {
	if p == nil {
		return nil, nil
	}
	return &p.Date, &p.Key
}

// pageStart checks a listing's page size and cursor and returns the keyset
// arguments of where its page starts (see after).
func pageStart(kind string, limit int, cursor string) (date, key *string, err error) {
	if err := checkLimit(limit); err != nil {
		return nil, nil, err
	}
	p, err := decodeCursor(kind, cursor)
	if err != nil {
		return nil, nil, err
	}
	date, key = p.after()
	return date, key, nil
}

// pageEnd cuts rows, queried with one more than limit, to limit and returns
// the cursor of the next page after the last row kept, by that row's
// position (date, key); "" when no row was left over.
func pageEnd[T any](kind string, rows []T, limit int, position func(T) (time.Time, string)) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	date, key := position(rows[limit-1])
	return rows, encodeCursor(kind, date, key)
}

// checkLimit guards against a caller that forgot to bound the page size.
func checkLimit(limit int) error {
	if limit < 1 || limit > MaxPageSize {
		return fmt.Errorf("page size %d outside 1..%d", limit, MaxPageSize)
	}
	return nil
}

// MaxPageSize is the largest page any listing returns.
const MaxPageSize = 100

// containsPattern turns text into an ILIKE pattern matching it anywhere,
// with the pattern characters in text taken literally.
func containsPattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(text) + "%"
}
