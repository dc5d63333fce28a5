-- Backups know the queue job that runs them (enqueued in the same
-- transaction as the record), so start-up reconciliation can tell a queued
-- backup whose job is gone from one still waiting, and cancel the job of a
-- backup a killed berth left running.
ALTER TABLE backups ADD COLUMN job_id bigint;
