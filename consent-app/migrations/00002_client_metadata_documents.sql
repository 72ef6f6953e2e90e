-- +goose Up
-- Clients known by a Client ID Metadata Document URL. Hydra knows each under
-- a stable id derived from the URL (docs/design.md quirk 14); this is the mapping,
-- and the cache of the last document fetched from the URL.
CREATE TABLE client_metadata_documents (
    url             text PRIMARY KEY,
    hydra_client_id text NOT NULL UNIQUE,
    client_name     text NOT NULL,
    redirect_uris   text[] NOT NULL,
    -- The Hydra client is rewritten only when the document changes.
    document_sha256 text NOT NULL,
    fetched_at      timestamptz NOT NULL,
    fresh_until     timestamptz NOT NULL
);

-- +goose Down
DROP TABLE client_metadata_documents;
