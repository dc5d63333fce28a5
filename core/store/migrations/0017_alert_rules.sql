-- Threshold alert rules (docs/alerts.md): a metric of a server (instance
-- administrators), an application or a database (its organization's
-- members) above a threshold for a duration emits threshold.crossed, then
-- again only after the cooldown.
CREATE TABLE alert_rules (
    id               uuid PRIMARY KEY,
    scope            text NOT NULL CHECK (scope IN ('server', 'application', 'database')),
    -- organization_id is NULL for server rules (they concern the instance).
    organization_id  uuid REFERENCES organizations (id) ON DELETE CASCADE,
    application_id   uuid REFERENCES applications (id) ON DELETE CASCADE,
    database_id      uuid REFERENCES databases (id) ON DELETE CASCADE,
    -- target: a server rule's node id, '' for every server.
    target           text NOT NULL DEFAULT '',
    name             text NOT NULL,
    metric           text NOT NULL,
    -- subject: a disk rule's mount, '' for every mount.
    subject          text NOT NULL DEFAULT '',
    threshold        double precision NOT NULL,
    duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
    cooldown_seconds integer NOT NULL CHECK (cooldown_seconds > 0),
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'server') = (organization_id IS NULL)),
    CHECK ((scope = 'application') = (application_id IS NOT NULL)),
    CHECK ((scope = 'database') = (database_id IS NOT NULL))
);

CREATE INDEX alert_rules_application ON alert_rules (application_id) WHERE application_id IS NOT NULL;
CREATE INDEX alert_rules_database ON alert_rules (database_id) WHERE database_id IS NOT NULL;

-- The evaluation state of each series a rule watches (one per server and
-- mount for a rule on every server or every mount), kept so a restart
-- neither loses a pending duration nor fires again within the cooldown.
CREATE TABLE alert_rule_states (
    rule_id        uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    target         text NOT NULL,
    subject        text NOT NULL,
    -- pending_since: the first observation of the current run above the
    -- threshold (NULL: at or below it).
    pending_since  timestamptz,
    -- firing: above the threshold for the whole duration.
    firing         boolean NOT NULL DEFAULT false,
    last_fired_at  timestamptz,
    last_value     double precision NOT NULL,
    last_at        timestamptz NOT NULL,
    PRIMARY KEY (rule_id, target, subject)
);

-- Rule definitions are announced like the other listed objects
-- (0010_changefeed); their states, written every sampling round, are not.
CREATE TRIGGER alert_rules_announce AFTER INSERT OR UPDATE OR DELETE ON alert_rules
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
