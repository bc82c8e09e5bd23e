-- Provisioning: tenants (organizations, memberships, teams), model groups, versioned plans,
-- plan grants waiting to reach accounting, and the audit log. Credits themselves live in
-- accounting; a team row keeps only its account's id. Nothing here is ever hard-deleted.

CREATE TABLE organizations (
    id          uuid        PRIMARY KEY,
    slug        text        NOT NULL UNIQUE,  -- never reused, even after a soft delete
    name        text        NOT NULL,
    owner_id    text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE TABLE memberships (
    organization_id  uuid        NOT NULL REFERENCES organizations (id),
    user_id          text        NOT NULL,
    username         text        NOT NULL,
    email            text        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    added_by         text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE model_groups (
    id           uuid        PRIMARY KEY,
    name         text        NOT NULL,
    description  text,
    models       text[]      NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX model_groups_name_key ON model_groups (lower(name));

CREATE TABLE teams (
    id               uuid        PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id),
    name             text        NOT NULL,
    model_groups     text[]      NOT NULL,
    account_id       uuid        NOT NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (organization_id, lower(name));

CREATE TABLE plans (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    is_default  boolean     NOT NULL DEFAULT false,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX plans_name_key ON plans (lower(name));
CREATE UNIQUE INDEX plans_one_default ON plans (is_default) WHERE is_default;

-- Editing a plan adds a version; the version in force is the newest one already effective.
CREATE TABLE plan_versions (
    plan_id              uuid        NOT NULL REFERENCES plans (id),
    version              integer     NOT NULL CHECK (version > 0),
    monthly_micro        bigint      NOT NULL CHECK (monthly_micro >= 0),
    requests_per_minute  integer     NOT NULL CHECK (requests_per_minute > 0),
    model_groups         text[]      NOT NULL,
    effective_from       timestamptz NOT NULL,
    created_by           text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_id, version)
);

CREATE TABLE plan_assignments (
    user_id      text        PRIMARY KEY,
    username     text,
    plan_id      uuid        NOT NULL REFERENCES plans (id),
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    source       text        NOT NULL
);

-- One row per (user, month): written in the same transaction as the reason for it, then
-- delivered to accounting by the grant worker until accounting accepts it (an outbox).
CREATE TABLE plan_grants (
    idempotency_key  text        PRIMARY KEY,
    user_id          text        NOT NULL,
    username         text,
    plan_id          uuid        NOT NULL REFERENCES plans (id),
    plan_version     integer     NOT NULL,
    period           text        NOT NULL,
    amount_micro     bigint      NOT NULL CHECK (amount_micro >= 0),
    status           text        NOT NULL CHECK (status IN ('pending', 'granted')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    granted_at       timestamptz,
    UNIQUE (user_id, period)
);
CREATE INDEX plan_grants_due ON plan_grants (next_attempt_at) WHERE status = 'pending';

CREATE TABLE audit_log (
    id               bigserial   PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    actor_id         text        NOT NULL,
    actor_username   text,
    action           text        NOT NULL,
    target_type      text        NOT NULL,
    target_id        text        NOT NULL,
    organization_id  uuid,
    before           jsonb,
    after            jsonb,
    request_id       text
);
CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at DESC);
CREATE INDEX audit_log_by_action ON audit_log (action, at DESC);
CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, at DESC);
