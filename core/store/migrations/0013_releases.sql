-- How a release takes over from the running one (readiness check, soak,
-- stop grace), what happened during it, and canary releases.

-- release_settings: {"readiness": {...}, "soak_seconds": n,
-- "stop_grace_seconds": n}; missing keys take berth's defaults.
ALTER TABLE applications ADD COLUMN release_settings jsonb NOT NULL DEFAULT '{}';

-- release: what the release did (readiness attempts per task, soak,
-- which version serves, when old tasks were retired); canary: the share
-- of traffic asked for and the auto-promotion rule, for a canary release.
ALTER TABLE deployments ADD COLUMN release jsonb;
ALTER TABLE deployments ADD COLUMN canary jsonb;

ALTER TABLE deployments DROP CONSTRAINT deployments_status_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check
    CHECK (status IN ('queued', 'running', 'canary', 'succeeded', 'failed', 'cancelled'));

-- A canary holds traffic between deployments: at most one per application.
CREATE UNIQUE INDEX deployments_one_canary_idx ON deployments (application_id) WHERE status = 'canary';

-- Routing follows a deployment entering or leaving the canary state.
CREATE TRIGGER deployments_canary_announce AFTER UPDATE ON deployments
    FOR EACH ROW WHEN ((OLD.status = 'canary') <> (NEW.status = 'canary') OR (NEW.status = 'canary' AND OLD.canary IS DISTINCT FROM NEW.canary))
    EXECUTE FUNCTION berth_announce_change();
