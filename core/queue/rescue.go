package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// RequeueRunning makes the jobs of queue that River records as running
// available again at once, and returns how many there were. Call it at
// start-up, before this process works any job: such jobs were left by a
// process that died mid-job (berth runs one server process per
// database), and River alone would take them up only after
// RescueStuckJobsAfter. Use it for queues whose jobs are safe to run
// again (deliveries that carry their own idempotency key).
func RequeueRunning(ctx context.Context, pool *pgxpool.Pool, queue string) (int64, error) {
	tag, err := pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE queue = $1 AND state = 'running'`, queue)
	if err != nil {
		return 0, fmt.Errorf("queue: requeue running %s jobs: %w", queue, err)
	}
	return tag.RowsAffected(), nil
}
