-- Git connections, webhooks, push-to-deploy and preview deployments.

-- A git connection holds an organization's credentials for one git host
-- (token, user name and app password, or GitHub App), sealed.
CREATE TABLE git_connections (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    provider         text NOT NULL,
    base_url         text NOT NULL DEFAULT '',
    credentials_enc  bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, name)
);

ALTER TABLE applications
    ADD COLUMN git_connection_id uuid REFERENCES git_connections (id) ON DELETE SET NULL,
    -- The public, unguessable id in the application's webhook URLs.
    ADD COLUMN webhook_id text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
    -- The secret the git host signs webhooks with, sealed; generated on first use.
    ADD COLUMN webhook_secret_enc bytea,
    -- SHA-256 of the deploy token of the generic and image webhooks.
    ADD COLUMN deploy_token_hash bytea,
    ADD COLUMN auto_deploy boolean NOT NULL DEFAULT true,
    ADD COLUMN deploy_trigger text NOT NULL DEFAULT 'branch' CHECK (deploy_trigger IN ('branch', 'tag')),
    ADD COLUMN tag_pattern text NOT NULL DEFAULT '',
    ADD COLUMN watch_paths text[] NOT NULL DEFAULT '{}',
    ADD COLUMN preview_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN preview_host_pattern text NOT NULL DEFAULT '',
    ADD COLUMN preview_limit integer NOT NULL DEFAULT 3,
    ADD COLUMN preview_label text NOT NULL DEFAULT '',
    ADD COLUMN preview_https text NOT NULL DEFAULT 'none' CHECK (preview_https IN ('none', 'letsencrypt')),
    ADD COLUMN preview_forks boolean NOT NULL DEFAULT false,
    -- A preview is an application row under its parent, one per pull request.
    ADD COLUMN preview_of uuid REFERENCES applications (id) ON DELETE CASCADE,
    ADD COLUMN preview_number integer,
    ADD COLUMN preview_head_ref text NOT NULL DEFAULT '',
    ADD CONSTRAINT applications_webhook_id_key UNIQUE (webhook_id),
    ADD CONSTRAINT applications_preview_key UNIQUE (preview_of, preview_number);

CREATE INDEX applications_git_connection_idx ON applications (git_connection_id) WHERE git_connection_id IS NOT NULL;

-- Where commit statuses of a webhook-triggered deployment are posted
-- (the provider's repository name); empty posts none.
ALTER TABLE deployments
    ADD COLUMN status_repository text NOT NULL DEFAULT '',
    ADD COLUMN status_context text NOT NULL DEFAULT '';
