-- +goose Up
-- The audit log: one row per MCP tool call, written by this server in
-- batches off the request path (package audit). Who, where, which tool, how
-- it went and how long it took; never the arguments, the results or a
-- token. The consent app reads it for a connection's activity view (its
-- store.Activity); the retention job here deletes rows past AUDIT_RETENTION.
CREATE TABLE audit_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    user_id       uuid   NOT NULL,
    team_id       uuid   NOT NULL,
    client_id     text   NOT NULL,
    connection_id uuid   NOT NULL,
    tool          text   NOT NULL,
    outcome       text   NOT NULL CHECK (outcome IN ('ok', 'tool_error', 'error', 'denied', 'unavailable')),
    duration_us   bigint NOT NULL CHECK (duration_us >= 0)
);
-- A connection's activity, newest first.
CREATE INDEX audit_events_connection_at_idx ON audit_events (connection_id, at DESC);
-- Retention deletes by age.
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- +goose Down
DROP TABLE audit_events;
