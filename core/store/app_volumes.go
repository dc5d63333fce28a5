package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// appVolumesCol selects an application's recorded volume mappings (source
// -> Docker volume) as one JSON object.
const appVolumesCol = `(SELECT coalesce(jsonb_object_agg(v.source, v.volume), '{}'::jsonb)
	FROM app_volumes v WHERE v.application_id = a.id)`

// DefaultVolumeName is the Docker volume of an application's named volume
// mount whose source has no recorded mapping: the application's service
// name, "_", and the source. Service names have no "_" (and database
// volumes are "<service>-data"), so whatever source a tenant chooses, the
// name is no other application's or database's volume.
func DefaultVolumeName(a Application, source string) string {
	return a.ServiceName + "_" + source
}

// RestoreVolumeName is the fresh Docker volume a restore loads source into
// before switching the application's service to it (also prefixed with
// the service name and "_").
func RestoreVolumeName(a Application, source string, restore uuid.UUID) string {
	id := restore.String()
	return a.ServiceName + "_" + source + "_r" + id[len(id)-8:]
}

// volumesOf maps each named volume mount source of a to its Docker volume:
// the recorded one, else the default one.
func volumesOf(a Application, recorded map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range a.Mounts {
		if m.Type != "volume" || m.Source == "" {
			continue
		}
		if v, ok := recorded[m.Source]; ok && v != "" {
			out[m.Source] = v
		} else {
			out[m.Source] = DefaultVolumeName(a, m.Source)
		}
	}
	return out
}

// ErrSwitchPending is returned when an application's earlier volume switch
// is not settled yet (start-up reconciliation settles it).
var ErrSwitchPending = errors.New("an earlier volume switch of the application is not settled")

// AppVolume is one recorded mapping of an application's volume mount
// source to a Docker volume.
type AppVolume struct {
	ApplicationID uuid.UUID
	Source        string
	Volume        string
	// PreviousVolume and RestoreID are set while restore RestoreID switches
	// the service from PreviousVolume to Volume, until PreviousVolume is
	// removed.
	PreviousVolume string
	RestoreID      *uuid.UUID
}

// AppVolumes returns an application's current volume mappings, source ->
// Docker volume (recorded or default), for its mounts as now configured.
func (s *Store) AppVolumes(ctx context.Context, app uuid.UUID) (map[string]string, error) {
	a, err := s.GetApplication(ctx, app)
	if err != nil {
		return nil, err
	}
	return a.Volumes, nil
}

// BeginVolumeSwitch records, before the service is updated, that restore
// switches the application's sources to fresh volumes (source -> fresh
// volume), keeping each source's current volume as the previous one. It
// fails when another switch of the application is still pending.
func (s *Store) BeginVolumeSwitch(ctx context.Context, a Application, restore uuid.UUID, fresh map[string]string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		var pending int
		if err := tx.tx.QueryRow(ctx, `SELECT count(*) FROM app_volumes WHERE application_id = $1 AND previous_volume IS NOT NULL`,
			a.ID).Scan(&pending); err != nil {
			return fmt.Errorf("store: begin volume switch: %w", err)
		}
		if pending > 0 {
			return fmt.Errorf("store: begin volume switch: %w", ErrSwitchPending)
		}
		for src, vol := range fresh {
			prev, ok := a.Volumes[src]
			if !ok {
				return fmt.Errorf("store: begin volume switch: %s has no volume mount %q", a.Name, src)
			}
			if _, err := tx.tx.Exec(ctx, `INSERT INTO app_volumes (application_id, source, volume, previous_volume, restore_id)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (application_id, source) DO UPDATE SET volume = $3, previous_volume = $4, restore_id = $5, updated_at = now()`,
				a.ID, src, vol, prev, restore); err != nil {
				return fmt.Errorf("store: begin volume switch: %w", err)
			}
		}
		return nil
	})
}

// PendingVolumeSwitches lists the mappings whose switch is not settled
// (PreviousVolume set), of one application or, with uuid.Nil, of all.
func (s *Store) PendingVolumeSwitches(ctx context.Context, app uuid.UUID) ([]AppVolume, error) {
	rows, err := s.pool.Query(ctx, `SELECT application_id, source, volume, previous_volume, restore_id FROM app_volumes
		WHERE previous_volume IS NOT NULL AND ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR application_id = $1)
		ORDER BY application_id, source`, app)
	if err != nil {
		return nil, fmt.Errorf("store: pending volume switches: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AppVolume, error) {
		var v AppVolume
		err := r.Scan(&v.ApplicationID, &v.Source, &v.Volume, &v.PreviousVolume, &v.RestoreID)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending volume switches: %w", err)
	}
	return out, nil
}

// EndVolumeSwitch settles a switch: done keeps the fresh volumes and
// forgets the previous ones (removed, or about to be, by the caller);
// otherwise each source is mapped back to its previous volume.
func (s *Store) EndVolumeSwitch(ctx context.Context, app uuid.UUID, restore uuid.UUID, done bool) error {
	q := `UPDATE app_volumes SET volume = previous_volume, previous_volume = NULL, restore_id = NULL, updated_at = now()
		WHERE application_id = $1 AND restore_id = $2 AND previous_volume IS NOT NULL`
	if done {
		q = `UPDATE app_volumes SET previous_volume = NULL, restore_id = NULL, updated_at = now()
		WHERE application_id = $1 AND restore_id = $2 AND previous_volume IS NOT NULL`
	}
	if _, err := s.pool.Exec(ctx, q, app, restore); err != nil {
		return fmt.Errorf("store: end volume switch: %w", err)
	}
	return nil
}

// VolumeMappedBy lists the applications other than except that map a
// source to the Docker volume name (as current or previous volume).
func (s *Store) VolumeMappedBy(ctx context.Context, name string, except []uuid.UUID) ([]uuid.UUID, error) {
	if except == nil {
		except = []uuid.UUID{}
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT application_id FROM app_volumes
		WHERE (volume = $1 OR previous_volume = $1) AND NOT application_id = ANY($2) ORDER BY application_id`, name, except)
	if err != nil {
		return nil, fmt.Errorf("store: volume users: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("store: volume users: %w", err)
	}
	return ids, nil
}

// RecordedVolumes lists every Docker volume an application's mappings
// name (current and previous), whether or not a mount still uses it.
func (s *Store) RecordedVolumes(ctx context.Context, app uuid.UUID) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT volume FROM app_volumes WHERE application_id = $1
		UNION SELECT previous_volume FROM app_volumes WHERE application_id = $1 AND previous_volume IS NOT NULL ORDER BY 1`, app)
	if err != nil {
		return nil, fmt.Errorf("store: recorded volumes: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: recorded volumes: %w", err)
	}
	return out, nil
}

// DeploymentRunning reports whether a deployment of the application is
// running (a volume restore does not switch volumes under a release).
func (s *Store) DeploymentRunning(ctx context.Context, app uuid.UUID) (bool, error) {
	var running bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deployments WHERE application_id = $1 AND status = $2)`,
		app, DeploymentRunning).Scan(&running)
	if err != nil {
		return false, fmt.Errorf("store: running deployments: %w", err)
	}
	return running, nil
}
