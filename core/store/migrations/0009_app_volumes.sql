-- Each application's named volume mounts map, per application, from the
-- mount's source (e.g. "data") to the Docker volume the service mounts.
-- Until now the source was the Docker volume's name itself, so two
-- applications mounting "data" shared one volume. A source without a row
-- uses the per-application default name (see store.DefaultVolumeName); a
-- row records any other: the volumes existing services already mount, and
-- the fresh volume a restore switched the service to.
--
-- previous_volume and restore_id are set while a restore switches the
-- service from previous_volume to volume (recorded before the Swarm update,
-- so start-up reconciliation can settle a switch a killed berth left
-- half-way from what the service mounts); both are cleared once the
-- previous volume is removed.
CREATE TABLE app_volumes (
    application_id  uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    source          text NOT NULL,
    volume          text NOT NULL,
    previous_volume text,
    restore_id      uuid,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, source)
);

CREATE INDEX app_volumes_volume_idx ON app_volumes (volume);

-- Services that exist keep the volume they mount: every application that
-- was ever deployed maps its volume sources to the volume of that name.
INSERT INTO app_volumes (application_id, source, volume)
SELECT DISTINCT a.id, m->>'source', m->>'source'
  FROM applications a, jsonb_array_elements(a.mounts) m
 WHERE m->>'type' = 'volume' AND coalesce(m->>'source', '') <> ''
   AND EXISTS (SELECT 1 FROM deployments d WHERE d.application_id = a.id)
ON CONFLICT DO NOTHING;
