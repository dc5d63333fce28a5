-- Trust: an explicit instance-administrator flag on users, and the instance
-- settings that decide what tenants may reach on the host.

-- Instance administrators hold host-level powers (bind mounts, low host
-- ports, placement, local paths, plugin settings). Until now they were the
-- owners and admins of the organization created at setup; they keep it.
ALTER TABLE users ADD COLUMN instance_admin boolean NOT NULL DEFAULT false;

UPDATE users SET instance_admin = true
WHERE id IN (SELECT m.user_id FROM memberships m
             WHERE m.role IN ('owner', 'admin')
               AND m.organization_id = (SELECT id FROM organizations ORDER BY id LIMIT 1));

-- One row: the instance's host-access settings.
CREATE TABLE instance_settings (
    id                           boolean PRIMARY KEY DEFAULT true CHECK (id),
    -- Whether users who are not instance administrators may create organizations.
    allow_organization_creation  boolean NOT NULL DEFAULT false,
    -- Host directories under which any member may bind mount into an application.
    bind_mount_roots             text[] NOT NULL DEFAULT '{}',
    -- Host directories under which any organization admin may point a backup.local destination.
    local_backup_roots           text[] NOT NULL DEFAULT '{}',
    -- Internal addresses (CIDRs or host names) tenants may aim outbound requests at.
    outbound_allow               text[] NOT NULL DEFAULT '{}',
    updated_by                   uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at                   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO instance_settings DEFAULT VALUES;
