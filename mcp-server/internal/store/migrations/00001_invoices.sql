-- +goose Up
-- invoices belong to a team of the consent app's teams table. There is no
-- foreign key: the two services migrate independently (docs/design.md, "Contracts between the services").
CREATE TABLE invoices (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id      uuid   NOT NULL,
    number       text   NOT NULL,
    customer     text   NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    currency     text   NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status       text   NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'void')),
    issued_on    date   NOT NULL,
    due_on       date   NOT NULL CHECK (due_on >= issued_on),
    UNIQUE (team_id, number)
);

-- Serves list_invoices: a team's invoices newest first, paged by keyset.
CREATE INDEX invoices_team_issued_idx ON invoices (team_id, issued_on DESC, number DESC);

-- +goose Down
DROP TABLE invoices;
