-- +goose Up
-- A scope granted to a live connection from the settings pages (step-up by
-- link, docs/known-clients.md) reaches every MCP server replica at once: the
-- MCP server adds a connection's scopes to its token's, so it must drop what
-- it cached about the connection when they change, as on revocation
-- (migration 00003).
CREATE TRIGGER connections_scopes_changed
    AFTER UPDATE OF scopes ON connections
    FOR EACH ROW
    WHEN (OLD.scopes IS DISTINCT FROM NEW.scopes)
    EXECUTE FUNCTION notify_connection_changed();

-- +goose Down
DROP TRIGGER connections_scopes_changed ON connections;
