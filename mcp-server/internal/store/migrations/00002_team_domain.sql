-- +goose Up
-- The demo domain: invoices with line items, estimates, transactions. Every
-- row carries team_id, and PostgreSQL row-level security is a second fence
-- behind the application's own team filter: the server runs each tool's
-- transaction as mcp_server_tenant with mcp_server.team_id set (see
-- store.inTeam), and that role sees and writes only the rows of that team.

-- A cluster-wide role without login: nothing connects as it, the server
-- switches to it per transaction. Several databases on one cluster (tests,
-- other deployments) share it, hence the tolerant create.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE mcp_server_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd

-- The connecting role must be allowed to SET ROLE to it; a superuser always is.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT mcp_server_tenant TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO mcp_server_tenant', current_schema());
END
$$;
-- +goose StatementEnd

-- Lines and transactions point at an invoice of their own team: the foreign
-- keys include team_id, so no row can link across teams.
ALTER TABLE invoices ADD CONSTRAINT invoices_id_team_key UNIQUE (id, team_id);

CREATE TABLE invoice_lines (
    team_id          uuid   NOT NULL,
    invoice_id       uuid   NOT NULL,
    position         int    NOT NULL CHECK (position >= 1),
    description      text   NOT NULL CHECK (description <> ''),
    quantity         numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
    amount_cents     bigint NOT NULL CHECK (amount_cents >= 0),
    PRIMARY KEY (invoice_id, position),
    FOREIGN KEY (invoice_id, team_id) REFERENCES invoices (id, team_id) ON DELETE CASCADE
);

-- Invoices created before line items existed get one line for their total.
INSERT INTO invoice_lines (team_id, invoice_id, position, description, quantity, unit_price_cents, amount_cents)
SELECT team_id, id, 1, 'Services', 1, amount_cents, amount_cents FROM invoices;

CREATE TABLE estimates (
    id           uuid   PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id      uuid   NOT NULL,
    number       text   NOT NULL,
    customer     text   NOT NULL,
    summary      text   NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency     text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status       text   NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'declined', 'expired')),
    issued_on    date   NOT NULL,
    valid_until  date   NOT NULL CHECK (valid_until >= issued_on),
    UNIQUE (team_id, number)
);
CREATE INDEX estimates_team_issued_idx ON estimates (team_id, issued_on DESC, number DESC);

-- amount_cents is signed: money in is positive, money out negative.
CREATE TABLE transactions (
    id           uuid   PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id      uuid   NOT NULL,
    reference    text   NOT NULL,
    booked_on    date   NOT NULL,
    description  text   NOT NULL,
    counterparty text   NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents <> 0),
    currency     text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    invoice_id   uuid,
    UNIQUE (team_id, reference),
    FOREIGN KEY (invoice_id, team_id) REFERENCES invoices (id, team_id)
);
CREATE INDEX transactions_team_booked_idx ON transactions (team_id, booked_on DESC, reference DESC);

-- The last number handed out per team, kind and year, so that concurrent
-- creates never pick the same number.
CREATE TABLE number_sequences (
    team_id    uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('invoice', 'estimate', 'transaction')),
    year       int  NOT NULL,
    last_value int  NOT NULL CHECK (last_value >= 1),
    PRIMARY KEY (team_id, kind, year)
);
INSERT INTO number_sequences (team_id, kind, year, last_value)
SELECT team_id, 'invoice', extract(year FROM issued_on)::int, max(substring(number FROM '(\d+)$')::int)
FROM invoices
WHERE number ~ '\d+$'
GROUP BY team_id, extract(year FROM issued_on);

-- The fence. NULLIF: once set in a session, an unset custom setting reads as
-- '' rather than NULL. FORCE: the tables' owner is fenced too.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['invoices', 'invoice_lines', 'estimates', 'transactions', 'number_sequences'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY team_isolation ON %I
            USING (team_id = NULLIF(current_setting('mcp_server.team_id', true), '')::uuid)
            WITH CHECK (team_id = NULLIF(current_setting('mcp_server.team_id', true), '')::uuid)$p$, t);
    END LOOP;
END
$$;
-- +goose StatementEnd

GRANT SELECT, INSERT ON invoices, invoice_lines, estimates, transactions TO mcp_server_tenant;
GRANT SELECT, INSERT, UPDATE ON number_sequences TO mcp_server_tenant;

-- +goose Down
REVOKE ALL ON invoices FROM mcp_server_tenant;
DROP POLICY team_isolation ON invoices;
ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY;
ALTER TABLE invoices DISABLE ROW LEVEL SECURITY;
DROP TABLE number_sequences;
DROP TABLE transactions;
DROP TABLE estimates;
DROP TABLE invoice_lines;
ALTER TABLE invoices DROP CONSTRAINT invoices_id_team_key;
-- The role stays: other databases on the cluster may use it.
