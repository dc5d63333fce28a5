package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/providers/backup/s3/s3"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/berth-dev/berth/test/s3test"
)

// s3Destination creates a backup.s3 destination on endpoint, storing
// under prefix in srv's bucket.
func (e *env) s3Destination(name string, srv *s3test.Server, endpoint, prefix string) store.BackupDestination {
	e.t.Helper()
	settings, err := json.Marshal(s3.Settings{Endpoint: endpoint, Region: srv.Region, Bucket: srv.Bucket, Prefix: prefix,
		PathStyle: true, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey})
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := e.store.CreateBackupDestination(e.ctx, e.orgID, name, s3.ID, settings)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// bucketKeys lists the keys under prefix in srv's bucket, sorted.
func bucketKeys(t *testing.T, srv *s3test.Server, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range srv.Client(t).ListObjects(context.Background(), srv.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	return keys
}

// TestS3RoundTrip backs a PostgreSQL database up three times through the
// backup.s3 plugin into a real S3 server (versitygw), keeps the latest two
// with their manifests, destroys the data and restores it, by record and
// by key.
func TestS3RoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := s3test.Start(t)
	dest := e.s3Destination("s3", srv, srv.Endpoint, "berth")
	op := ops[database.Postgres]
	db := e.database(database.Postgres, "shop")
	op.write(e, db)
	want := op.checksum(e, db)
	p, err := e.store.CreateBackupPolicy(e.ctx, &db.ID, nil, dest.ID, store.BackupPolicySpec{Schedule: "@daily", TimeZone: "UTC",
		Prefix: "nightly", KeepLatest: 2, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	var made []store.Backup
	for range 3 {
		b, err := e.backupNow(db, dest, &p)
		if err != nil || b.Status != store.BackupSucceeded {
			t.Fatalf("backup to S3: %v (%+v)", err, b)
		}
		made = append(made, b)
	}
	// The bucket holds the latest two objects and their manifests, under
	// the destination's prefix.
	var wantKeys []string
	for _, b := range made[1:] {
		wantKeys = append(wantKeys, "berth/"+b.Key, "berth/"+b.Key+backup.ManifestSuffix)
	}
	sort.Strings(wantKeys)
	if got := bucketKeys(t, srv, ""); strings.Join(got, "\n") != strings.Join(wantKeys, "\n") {
		t.Errorf("bucket holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantKeys, "\n"))
	}
	if first, _ := e.store.GetBackup(e.ctx, made[0].ID); first.DeletedAt == nil {
		t.Error("retention should mark the oldest backup deleted")
	}
	latest := made[2]
	obj, err := srv.Client(t).GetObject(e.ctx, srv.Bucket, "berth/"+latest.Key+backup.ManifestSuffix, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m backup.Manifest
	if err := json.NewDecoder(obj).Decode(&m); err != nil {
		t.Fatalf("manifest on S3: %v", err)
	}
	obj.Close()
	if m.Kind != "database" || m.Engine != database.Postgres || m.SizeBytes != latest.SizeBytes || m.SHA256 != latest.SHA256 {
		t.Errorf("manifest = %+v, backup = %+v", m, latest)
	}

	op.destroy(e, db)
	if err := e.runner.Restore(e.ctx, restoreOf(latest, db), nil); err != nil {
		t.Fatalf("restore from S3: %v", err)
	}
	if got := op.checksum(e, db); got != want {
		t.Errorf("after restore checksum = %q, want %q", got, want)
	}
	// By key: verified against the manifest stored next to the object.
	op.destroy(e, db)
	if err := e.runner.Restore(e.ctx, backup.RestoreRequest{DestinationID: dest.ID, Key: made[1].Key, DatabaseID: db.ID}, nil); err != nil {
		t.Fatalf("restore from S3 by key: %v", err)
	}
	if got := op.checksum(e, db); got != want {
		t.Errorf("after restore by key checksum = %q, want %q", got, want)
	}
	// The removed object is gone for a restore too.
	err = e.runner.Restore(e.ctx, backup.RestoreRequest{DestinationID: dest.ID, Key: made[0].Key, DatabaseID: db.ID}, nil)
	if err == nil {
		t.Error("restoring an object removed by retention should fail")
	}
}

// TestS3UnreachableEndpointIsRetried sends backups to an S3 endpoint on a
// closed port: each attempt fails with a message naming the endpoint, the
// run is retried per the policy and reported once.
func TestS3UnreachableEndpointIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.database(database.Redis, "cache")
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", dockertest.FreePort(t))
	// Credentials and bucket are never checked: nothing answers.
	dest := e.s3Destination("closed", &s3test.Server{Region: s3test.Region, Bucket: "berth-closed", AccessKey: "berth", SecretKey: "secret"},
		endpoint, "")
	p, err := e.store.CreateBackupPolicy(e.ctx, &db.ID, nil, dest.ID, store.BackupPolicySpec{Schedule: "@yearly", KeepLatest: 3,
		Retries: 2, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, q := e.startQueue()
	b, err := schedule.Enqueue(e.ctx, e.store, q, store.NewBackup{PolicyID: &p.ID, DatabaseID: &db.ID, DestinationID: dest.ID,
		Status: store.BackupQueued, Trigger: store.TriggerManual}, p.Retries)
	if err != nil {
		t.Fatal(err)
	}
	e.waitBackups("three failed attempts", func(l []store.Backup) bool {
		return len(l) == 1 && l[0].Attempts == 3 && l[0].Status == store.BackupFailed && len(e.events.of(sdk.EventBackupFailed)) == 1
	}, store.BackupFilter{Policy: p.ID})
	got, _ := e.store.GetBackup(e.ctx, b.ID)
	if !strings.Contains(got.Error, "cannot reach S3 endpoint "+endpoint) || !strings.Contains(got.Error, "connection refused") {
		t.Errorf("error %q should name the endpoint and say why", got.Error)
	}
	t.Logf("recorded error: %s", got.Error)
	ev := e.events.of(sdk.EventBackupFailed)
	if len(ev) != 1 || ev[0].Backup.Error != got.Error || !strings.Contains(ev[0].Title, "cache") {
		t.Errorf("failed events = %+v", ev)
	}
	if len(e.events.of(sdk.EventBackupSucceeded)) != 0 {
		t.Error("no success expected")
	}
}
