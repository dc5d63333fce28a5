// Package backupjob defines what one backup run is on the job queue (its
// durable arguments and queue) and the grammar of backup policies'
// schedules. The service layer inserts these jobs; core/schedule works them
// and computes the policies' runs.
package backupjob

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/berth-dev/berth/core/queue"
)

// Args are the durable arguments of a backup run.
type Args struct {
	BackupID uuid.UUID `json:"backup_id"`
	PolicyID uuid.UUID `json:"policy_id,omitempty"`
}

// Kind is the stable job kind name.
func (Args) Kind() string { return "berth.backup" }

// InsertOpts puts backups on the backup queue, unique per backup record
// (one record per policy and scheduled time).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Backup, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse parses a policy's cron expression (five fields, or six with
// leading seconds, or a descriptor such as @daily) in time zone tz (IANA
// name; empty is UTC).
func Parse(expr, tz string) (cron.Schedule, error) {
	if tz == "" {
		tz = "UTC"
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tz)
	}
	s, err := parser.Parse("CRON_TZ=" + tz + " " + expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %w", expr, err)
	}
	return s, nil
}
