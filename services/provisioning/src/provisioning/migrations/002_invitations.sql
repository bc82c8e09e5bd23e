-- Invitations: how anyone but a platform admin brings a user into an organization. An
-- invitation names an email address (as the inviter typed it, matched case-insensitively
-- against the invitee's verified token) and a role; the membership starts only when the
-- invitee accepts. Rows are never deleted: their status records how each one ended.

CREATE TABLE invitations (
    id                uuid        PRIMARY KEY,
    organization_id   uuid        NOT NULL REFERENCES organizations (id),
    email             text        NOT NULL,
    role              text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by        text        NOT NULL,
    invited_by_name   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    status            text        NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    responded_by      text,  -- the user who accepted, declined or revoked it
    responded_at      timestamptz
);
-- One pending invitation per address and organization (an expired one is closed first).
CREATE UNIQUE INDEX invitations_one_pending ON invitations (organization_id, lower(email))
    WHERE status = 'pending';
CREATE INDEX invitations_pending_by_email ON invitations (lower(email)) WHERE status = 'pending';
