-- A release is a snapshot: each deployment records, sealed with berth's
-- secret key (the resolved environment holds secrets, files hold
-- credentials), the image and every configuration input its release ran
-- with (see core/snapshot). A rollback releases the target's snapshot
-- rather than the application's current settings and variables; the diff
-- of two releases compares theirs. NULL for deployments made before this
-- migration, and for those that never reached their release step.
ALTER TABLE deployments ADD COLUMN snapshot_enc bytea;
