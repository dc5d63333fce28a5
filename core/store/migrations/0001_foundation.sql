-- Foundation schema: tenancy, users and credentials, the project tree,
-- variables (encrypted), domains and deployments.

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL,
    name           text NOT NULL,
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE projects (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    description      text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

CREATE TABLE environments (
    id          uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);

CREATE TABLE applications (
    id              uuid PRIMARY KEY,
    environment_id  uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    service_name    text NOT NULL UNIQUE,
    source_type     text NOT NULL CHECK (source_type IN ('git', 'image')),
    git_repository  text NOT NULL DEFAULT '',
    git_ref         text NOT NULL DEFAULT '',
    git_provider    text NOT NULL DEFAULT '',
    image           text NOT NULL DEFAULT '',
    build_type      text NOT NULL DEFAULT '',
    build_settings  jsonb NOT NULL DEFAULT '{}',
    port            integer NOT NULL DEFAULT 0,
    replicas        integer NOT NULL DEFAULT 1,
    command         text[] NOT NULL DEFAULT '{}',
    cpu_limit       double precision NOT NULL DEFAULT 0,
    memory_limit_mb integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (environment_id, name)
);

CREATE TABLE domains (
    id               uuid PRIMARY KEY,
    application_id   uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    host             text NOT NULL,
    path_prefix      text NOT NULL DEFAULT '',
    strip_prefix     boolean NOT NULL DEFAULT false,
    internal_prefix  text NOT NULL DEFAULT '',
    port             integer NOT NULL DEFAULT 0,
    https            text NOT NULL DEFAULT 'none' CHECK (https IN ('none', 'letsencrypt', 'custom')),
    redirect_https   boolean NOT NULL DEFAULT false,
    certificate_pem  text NOT NULL DEFAULT '',
    private_key_enc  bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (host, path_prefix)
);
CREATE INDEX domains_application_idx ON domains (application_id);

-- Variables hang off exactly one of project, environment or application.
CREATE TABLE variables (
    id              uuid PRIMARY KEY,
    project_id      uuid REFERENCES projects (id) ON DELETE CASCADE,
    environment_id  uuid REFERENCES environments (id) ON DELETE CASCADE,
    application_id  uuid REFERENCES applications (id) ON DELETE CASCADE,
    key             text NOT NULL,
    value_enc       bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(project_id, environment_id, application_id) = 1)
);
CREATE UNIQUE INDEX variables_project_key ON variables (project_id, key) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX variables_environment_key ON variables (environment_id, key) WHERE environment_id IS NOT NULL;
CREATE UNIQUE INDEX variables_application_key ON variables (application_id, key) WHERE application_id IS NOT NULL;

CREATE TABLE deployments (
    id              uuid PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    status          text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    trigger         text NOT NULL DEFAULT 'manual',
    commit_sha      text NOT NULL DEFAULT '',
    image           text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX deployments_application_idx ON deployments (application_id, id DESC);
