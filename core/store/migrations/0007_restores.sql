-- Restores run as durable jobs: one row per restore of a backup into a
-- database or an application's volumes, created in the same transaction as
-- its River job.

CREATE TABLE restores (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('database', 'volume')),
    database_id      uuid REFERENCES databases (id) ON DELETE SET NULL,
    application_id   uuid REFERENCES applications (id) ON DELETE SET NULL,
    backup_id        uuid REFERENCES backups (id) ON DELETE SET NULL,
    destination_id   uuid REFERENCES backup_destinations (id) ON DELETE SET NULL,
    key              text NOT NULL DEFAULT '',
    target_name      text NOT NULL DEFAULT '',
    status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    phase            text NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT '',
    bytes_read       bigint NOT NULL DEFAULT 0,
    bytes_total      bigint NOT NULL DEFAULT 0,
    cancel_requested boolean NOT NULL DEFAULT false,
    job_id           bigint,
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX restores_database_idx ON restores (database_id, id DESC);
CREATE INDEX restores_application_idx ON restores (application_id, id DESC);
CREATE INDEX restores_active_idx ON restores (status) WHERE status IN ('queued', 'running');
