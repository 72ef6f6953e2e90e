-- +goose Up
-- Revocation reaches every MCP server replica at once: whenever a connection
-- is revoked, moved or deleted, the change's transaction notifies channel
-- connection_changed with the connection's id, delivered on commit. The MCP
-- server listens and drops what it cached about that connection. This
-- channel is a contract between the two services (README, "Revocation").
-- +goose StatementBegin
CREATE FUNCTION notify_connection_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('connection_changed', OLD.id::text);
    ELSE
        PERFORM pg_notify('connection_changed', NEW.id::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER connections_changed
    AFTER UPDATE OF revoked_at, team_id, user_id, client_id ON connections
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.team_id IS DISTINCT FROM NEW.team_id
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION notify_connection_changed();

CREATE TRIGGER connections_deleted
    AFTER DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION notify_connection_changed();

-- A membership that ends, by whatever path (the settings pages, a script, a
-- cascade), ends the member's connections into that team in the same
-- transaction.
-- +goose StatementBegin
CREATE FUNCTION revoke_connections_of_former_member() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE connections SET revoked_at = now()
    WHERE user_id = OLD.user_id AND team_id = OLD.team_id AND revoked_at IS NULL;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER memberships_ended
    AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION revoke_connections_of_former_member();

-- Hydra's consent for a user and client is revoked once the last of their
-- connections goes (docs/design.md quirk 7). This records that it was done, so a
-- failed call is retried by the hygiene job.
ALTER TABLE connections ADD COLUMN hydra_consent_revoked_at timestamptz;

-- The settings pages list live connections by user and by team; hygiene
-- finds a client's connections.
CREATE INDEX connections_client_id_idx ON connections (client_id);
CREATE INDEX connections_live_user_client_idx ON connections (user_id, client_id) WHERE revoked_at IS NULL;

-- +goose Down
DROP INDEX connections_live_user_client_idx;
DROP INDEX connections_client_id_idx;
ALTER TABLE connections DROP COLUMN hydra_consent_revoked_at;
DROP TRIGGER memberships_ended ON memberships;
DROP FUNCTION revoke_connections_of_former_member();
DROP TRIGGER connections_deleted ON connections;
DROP TRIGGER connections_changed ON connections;
DROP FUNCTION notify_connection_changed();
