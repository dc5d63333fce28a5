-- Deployments: what was asked, how far it got, its logs; applications: the
-- settings a Swarm service needs.

ALTER TABLE applications
    ADD COLUMN health_check     jsonb,
    ADD COLUMN mounts           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN ports            jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN placement        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN labels           jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN restart_policy   text NOT NULL DEFAULT 'any' CHECK (restart_policy IN ('any', 'on-failure', 'none')),
    ADD COLUMN cpu_reservation  double precision NOT NULL DEFAULT 0,
    ADD COLUMN memory_reservation_mb integer NOT NULL DEFAULT 0,
    -- Credentials for the git repository (token, password or deploy key), sealed.
    ADD COLUMN git_credentials_enc bytea,
    ADD COLUMN keep_releases    integer NOT NULL DEFAULT 10,
    -- Files mounted into containers, sealed (they often hold credentials).
    ADD COLUMN files_enc        bytea;

ALTER TABLE deployments
    ADD COLUMN kind          text NOT NULL DEFAULT 'deploy' CHECK (kind IN ('deploy', 'rollback')),
    ADD COLUMN git_ref       text NOT NULL DEFAULT '',
    ADD COLUMN commit_subject text NOT NULL DEFAULT '',
    ADD COLUMN rollback_of   uuid REFERENCES deployments (id) ON DELETE SET NULL,
    ADD COLUMN job_id        bigint,
    ADD COLUMN step          text NOT NULL DEFAULT '',
    ADD COLUMN steps         jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;

CREATE INDEX deployments_active_idx ON deployments (application_id, id) WHERE status IN ('queued', 'running');

CREATE TABLE deployment_logs (
    deployment_id  uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq            integer NOT NULL,
    at             timestamptz NOT NULL,
    stream         text NOT NULL DEFAULT 'stdout',
    line           text NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);

-- Domain redirects and basic auth (htpasswd lines with bcrypt hashes).
ALTER TABLE domains
    ADD COLUMN redirects  jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN basic_auth jsonb NOT NULL DEFAULT '[]';
