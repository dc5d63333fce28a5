-- Maintenance mode per application (issue 14): while maintenance_enabled,
-- every domain of the application is routed to berth's page server
-- (the Swarm service named in maintenance_service), which answers 503 with
-- Retry-After: maintenance_retry_after and maintenance_page ('' means the
-- default page). The applications_announce trigger (0010) announces the
-- change, so routing republishes after commit.
ALTER TABLE applications
    ADD COLUMN maintenance_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN maintenance_page text NOT NULL DEFAULT '',
    ADD COLUMN maintenance_retry_after integer NOT NULL DEFAULT 120
        CHECK (maintenance_retry_after BETWEEN 1 AND 604800),
    ADD COLUMN maintenance_service text NOT NULL DEFAULT '';

CREATE INDEX applications_in_maintenance ON applications (id) WHERE maintenance_enabled;
