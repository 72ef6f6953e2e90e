package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClientDocument is a client known by its metadata document URL: the Hydra
// client id standing for the URL, and what the last fetch of the document
// found.
type ClientDocument struct {
	URL            string
	HydraClientID  string
	ClientName     string
	RedirectURIs   []string
	DocumentSHA256 string
	FetchedAt      time.Time
	// FreshUntil is when the document must be fetched again.
	FreshUntil time.Time
}

// ClientDocument finds the record for a client identifier URL.
func (s *Store) ClientDocument(ctx context.Context, url string) (ClientDocument, error) {
	var d ClientDocument
	err := s.pool.QueryRow(ctx, `
		SELECT url, hydra_client_id, client_name, redirect_uris, document_sha256, fetched_at, fresh_until
		FROM client_metadata_documents WHERE url = $1`, url).
		Scan(&d.URL, &d.HydraClientID, &d.ClientName, &d.RedirectURIs, &d.DocumentSHA256, &d.FetchedAt, &d.FreshUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return ClientDocument{}, ErrNotFound
	}
	return d, err
}

// SaveClientDocument records a fetch of a client's document.
func (s *Store) SaveClientDocument(ctx context.Context, d ClientDocument) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO client_metadata_documents
		    (url, hydra_client_id, client_name, redirect_uris, document_sha256, fetched_at, fresh_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (url) DO UPDATE SET
		    client_name = excluded.client_name, redirect_uris = excluded.redirect_uris,
		    document_sha256 = excluded.document_sha256, fetched_at = excluded.fetched_at,
		    fresh_until = excluded.fresh_until`,
		d.URL, d.HydraClientID, d.ClientName, d.RedirectURIs, d.DocumentSHA256, d.FetchedAt, d.FreshUntil)
	if err != nil {
		return fmt.Errorf("save client document: %w", err)
	}
	return nil
}
