-- Request analytics from Traefik's access log (docs/requests.md).
--
-- request_stats: one row per application, domain and minute: how many
-- requests, by status class, and a fixed latency histogram (bucket bounds
-- in core/accesslog, the last bucket is unbounded) so percentiles over
-- any range are computed by adding histograms. Rows older than the
-- metrics retention are deleted.
CREATE TABLE request_stats (
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    host            text NOT NULL,
    minute          timestamptz NOT NULL,
    requests        bigint NOT NULL,
    status_1xx      bigint NOT NULL DEFAULT 0,
    status_2xx      bigint NOT NULL DEFAULT 0,
    status_3xx      bigint NOT NULL DEFAULT 0,
    status_4xx      bigint NOT NULL DEFAULT 0,
    status_5xx      bigint NOT NULL DEFAULT 0,
    duration_ms_sum double precision NOT NULL DEFAULT 0,
    latency_buckets bigint[] NOT NULL,
    PRIMARY KEY (application_id, minute, host)
);
CREATE INDEX request_stats_minute_idx ON request_stats (minute);

-- request_log: the latest requests of each application (trimmed to the
-- newest few hundred per application), query strings removed.
CREATE TABLE request_log (
    id              bigserial PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    at              timestamptz NOT NULL,
    method          text NOT NULL,
    host            text NOT NULL,
    path            text NOT NULL,
    status          integer NOT NULL,
    duration_ms     double precision NOT NULL,
    client          text NOT NULL
);
CREATE INDEX request_log_app_idx ON request_log (application_id, id);

-- request_log_cursor: per access log source (the Traefik container's
-- name), the timestamp of the last line whose figures are stored, so a
-- restarted berth reads on from there: no line lost, none counted twice.
-- Nanoseconds since the epoch: Docker's timestamps are finer than
-- timestamptz's microseconds.
CREATE TABLE request_log_cursor (
    source      text PRIMARY KEY,
    last_at_ns  bigint NOT NULL
);
