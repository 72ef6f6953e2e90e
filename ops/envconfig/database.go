package envconfig

import (
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"
)

// CheckDatabaseURL checks DATABASE_URL: required, and a connection string
// pgx can parse. The parser's error is not wrapped: it can quote the URL,
// password included.
func CheckDatabaseURL(raw string) error {
	if raw == "" {
		return errors.New("DATABASE_URL is required (for example postgres://user@localhost:5432/app)")
	}
	if _, err := pgxpool.ParseConfig(raw); err != nil {
		return errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	return nil
}
