-- Managed databases, backup destinations, backup policies and backups.

CREATE TABLE databases (
    id                 uuid PRIMARY KEY,
    environment_id     uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name               text NOT NULL,
    engine             text NOT NULL CHECK (engine IN ('postgres', 'mysql', 'mariadb', 'mongodb', 'redis')),
    version            text NOT NULL DEFAULT '',
    image              text NOT NULL DEFAULT '',
    service_name       text NOT NULL UNIQUE,
    volume_name        text NOT NULL UNIQUE,
    credentials_enc    bytea NOT NULL,
    external_port      integer NOT NULL DEFAULT 0,
    cpu_limit          double precision NOT NULL DEFAULT 0,
    memory_limit_mb    integer NOT NULL DEFAULT 0,
    desired_state      text NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running', 'stopped')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (environment_id, name)
);
CREATE UNIQUE INDEX databases_external_port_key ON databases (external_port) WHERE external_port <> 0;

CREATE TABLE backup_destinations (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    plugin_id        text NOT NULL,
    settings_enc     bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

-- A policy backs up exactly one database or one application's named volumes.
CREATE TABLE backup_policies (
    id                 uuid PRIMARY KEY,
    database_id        uuid REFERENCES databases (id) ON DELETE CASCADE,
    application_id     uuid REFERENCES applications (id) ON DELETE CASCADE,
    destination_id     uuid NOT NULL REFERENCES backup_destinations (id) ON DELETE RESTRICT,
    schedule           text NOT NULL,
    time_zone          text NOT NULL DEFAULT 'UTC',
    prefix             text NOT NULL DEFAULT '',
    keep_latest        integer NOT NULL DEFAULT 7 CHECK (keep_latest >= 0),
    retries            integer NOT NULL DEFAULT 2 CHECK (retries >= 0),
    enabled            boolean NOT NULL DEFAULT true,
    stop_service       boolean NOT NULL DEFAULT false,
    last_scheduled_at  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(database_id, application_id) = 1)
);
CREATE INDEX backup_policies_database_idx ON backup_policies (database_id);
CREATE INDEX backup_policies_application_idx ON backup_policies (application_id);

CREATE TABLE backups (
    id               uuid PRIMARY KEY,
    policy_id        uuid REFERENCES backup_policies (id) ON DELETE SET NULL,
    database_id      uuid REFERENCES databases (id) ON DELETE SET NULL,
    application_id   uuid REFERENCES applications (id) ON DELETE SET NULL,
    destination_id   uuid REFERENCES backup_destinations (id) ON DELETE SET NULL,
    kind             text NOT NULL DEFAULT 'database' CHECK (kind IN ('database', 'volume')),
    key              text NOT NULL DEFAULT '',
    size_bytes       bigint NOT NULL DEFAULT 0,
    sha256           text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'missed')),
    error            text NOT NULL DEFAULT '',
    trigger          text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    attempts         integer NOT NULL DEFAULT 0,
    scheduled_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    deleted_at       timestamptz
);
CREATE INDEX backups_policy_idx ON backups (policy_id, id DESC);
CREATE INDEX backups_database_idx ON backups (database_id, id DESC);
CREATE UNIQUE INDEX backups_policy_scheduled_key ON backups (policy_id, scheduled_at) WHERE scheduled_at IS NOT NULL;
