-- Metrics with history (docs/metrics.md): one row per target (a server's
-- host figures, an application's or a database's containers) and round,
-- rates rather than counters. Raw rows are kept 24 hours, then folded into
-- 5-minute rows (averages, with the maximum of CPU and memory) kept for
-- the instance's metrics_retention_days.

-- kind: 1 server, 2 application, 3 database. target: the Swarm node id or
-- the application's / database's id. Servers fill load and disks
-- (jsonb [{"mount","used","total"}]) and mem_limit with the host's memory;
-- workloads fill tasks, block I/O and restarts.
CREATE TABLE metric_points (
    kind       smallint NOT NULL,
    target     text NOT NULL,
    at         timestamptz NOT NULL,
    tasks      smallint NOT NULL DEFAULT 0,
    cpu        real NOT NULL,
    mem_used   bigint NOT NULL,
    mem_limit  bigint NOT NULL,
    net_rx     real NOT NULL,
    net_tx     real NOT NULL,
    blk_read   real NOT NULL DEFAULT 0,
    blk_write  real NOT NULL DEFAULT 0,
    load1      real NOT NULL DEFAULT 0,
    load5      real NOT NULL DEFAULT 0,
    load15     real NOT NULL DEFAULT 0,
    restarts   smallint NOT NULL DEFAULT 0,
    disks      jsonb
);
CREATE INDEX metric_points_target ON metric_points (kind, target, at);
CREATE INDEX metric_points_at ON metric_points (at);

-- 5-minute rows: at is the bucket's start, samples the raw rows folded in.
CREATE TABLE metric_rollups (
    kind       smallint NOT NULL,
    target     text NOT NULL,
    at         timestamptz NOT NULL,
    samples    integer NOT NULL,
    tasks      smallint NOT NULL DEFAULT 0,
    cpu        real NOT NULL,
    cpu_max    real NOT NULL,
    mem_used   bigint NOT NULL,
    mem_max    bigint NOT NULL,
    mem_limit  bigint NOT NULL,
    net_rx     real NOT NULL,
    net_tx     real NOT NULL,
    blk_read   real NOT NULL DEFAULT 0,
    blk_write  real NOT NULL DEFAULT 0,
    load1      real NOT NULL DEFAULT 0,
    load5      real NOT NULL DEFAULT 0,
    load15     real NOT NULL DEFAULT 0,
    restarts   smallint NOT NULL DEFAULT 0,
    disks      jsonb,
    PRIMARY KEY (kind, target, at)
);
CREATE INDEX metric_rollups_at ON metric_rollups (at);

-- The servers (Swarm nodes) berth has measured, with their host name.
CREATE TABLE metric_servers (
    node_id    text PRIMARY KEY,
    name       text NOT NULL,
    seen_at    timestamptz NOT NULL
);

-- Sampling interval and history kept, changed by instance administrators.
ALTER TABLE instance_settings ADD COLUMN metrics_interval_seconds integer NOT NULL DEFAULT 15;
ALTER TABLE instance_settings ADD COLUMN metrics_retention_days integer NOT NULL DEFAULT 7;
