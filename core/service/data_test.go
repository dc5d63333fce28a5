package service_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

func ptr[T any](v T) *T { return &v }

// TestDataOperationsValidateAndAuthorize: the operations of databases,
// backups and restores refuse bad input naming the field and callers
// without the declared role, whichever front door calls them.
func TestDataOperationsValidateAndAuthorize(t *testing.T) {
	ctx := context.Background()
	box, _ := secrets.New(bytes.Repeat([]byte{5}, secrets.KeySize))
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	first, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateOrganization(ctx, "other", first.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, env, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Deps{Store: st}) // no Docker, no queue
	as := func(r store.Role) *store.Principal {
		return &store.Principal{User: store.User{ID: uuid.New()}, Roles: map[uuid.UUID]store.Role{org.ID: r}}
	}
	owner, admin, member, viewer := as(store.RoleOwner), as(store.RoleAdmin), as(store.RoleMember), as(store.RoleViewer)
	stranger := &store.Principal{User: store.User{ID: uuid.New()}, Roles: map[uuid.UUID]store.Role{other.ID: store.RoleOwner}}

	pg := func(name string) service.DatabaseInput {
		return service.DatabaseInput{DatabaseSpec: store.DatabaseSpec{Name: name, Engine: database.Postgres}}
	}
	db, err := svc.Databases.Create(ctx, member, env, pg("main"))
	if err != nil {
		t.Fatalf("member creates a database: %v", err)
	}
	dest, err := svc.Backups.CreateDestination(ctx, admin, org.ID, service.NewDestination{Name: "Disk one", PluginID: "backup.local"})
	if err != nil {
		t.Fatalf("admin creates a destination: %v", err)
	}
	foreign, err := svc.Backups.CreateDestination(ctx, stranger, other.ID, service.NewDestination{Name: "theirs", PluginID: "backup.local"})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := svc.Backups.CreatePolicy(ctx, member, service.DatabaseOwner(db), service.PolicyChange{DestinationID: &dest.ID, Schedule: ptr("@daily")})
	if err != nil {
		t.Fatalf("member creates a policy: %v", err)
	}
	policy := func(c service.PolicyChange) error {
		if c.DestinationID == nil {
			c.DestinationID = &dest.ID
		}
		if c.Schedule == nil {
			c.Schedule = ptr("@daily")
		}
		_, err := svc.Backups.CreatePolicy(ctx, member, service.DatabaseOwner(db), c)
		return err
	}
	withDB := func(f func(*service.DatabaseInput)) service.DatabaseInput {
		in := pg("x")
		f(&in)
		return in
	}

	tests := []struct {
		name   string
		op     func() error
		status int
		field  string
	}{
		{"database name not a slug", func() error { _, err := svc.Databases.Create(ctx, member, env, pg("Main!")); return err }, 422, "name"},
		{"unknown engine", func() error {
			_, err := svc.Databases.Create(ctx, member, env, withDB(func(in *service.DatabaseInput) { in.Engine = "oracle" }))
			return err
		}, 422, "engine"},
		{"image tag with a slash", func() error {
			_, err := svc.Databases.Create(ctx, member, env, withDB(func(in *service.DatabaseInput) { in.Version = "16/alpine" }))
			return err
		}, 422, "version"},
		{"invalid image", func() error {
			_, err := svc.Databases.Create(ctx, member, env, withDB(func(in *service.DatabaseInput) { in.Image = "UPPER:case" }))
			return err
		}, 422, "image"},
		{"memory too small", func() error {
			_, err := svc.Databases.Create(ctx, member, env, withDB(func(in *service.DatabaseInput) { in.MemoryLimitMB = 2 }))
			return err
		}, 422, "memory_limit_mb"},
		{"duplicate database", func() error { _, err := svc.Databases.Create(ctx, member, env, pg("main")); return err }, 409, "name"},
		{"engine cannot change", func() error {
			_, err := svc.Databases.Update(ctx, member, db, service.DatabaseChange{Engine: ptr("mysql")})
			return err
		}, 422, "engine"},
		{"viewer creates a database", func() error { _, err := svc.Databases.Create(ctx, viewer, env, pg("v")); return err }, 403, ""},
		{"stranger creates a database", func() error { _, err := svc.Databases.Create(ctx, stranger, env, pg("s")); return err }, 404, ""},
		{"member deletes a database", func() error { return svc.Databases.Delete(ctx, member, db, false) }, 403, ""},
		{"owner deletes without Docker", func() error { return svc.Databases.Delete(ctx, owner, db, false) }, 503, ""},
		{"deploy without Docker", func() error { _, err := svc.Databases.Apply(ctx, member, db, ""); return err }, 503, ""},
		{"viewer deploys", func() error { _, err := svc.Databases.Apply(ctx, viewer, db, ""); return err }, 403, ""},

		{"schedule missing", func() error { return policy(service.PolicyChange{Schedule: ptr(" ")}) }, 422, "schedule"},
		{"schedule not cron", func() error { return policy(service.PolicyChange{Schedule: ptr("every day")}) }, 422, "schedule"},
		{"unknown time zone", func() error { return policy(service.PolicyChange{TimeZone: ptr("Mars/Olympus")}) }, 422, "time_zone"},
		{"prefix climbs", func() error { return policy(service.PolicyChange{Prefix: ptr("../x")}) }, 422, "prefix"},
		{"too many retries", func() error { return policy(service.PolicyChange{Retries: ptr(11)}) }, 422, "retries"},
		{"stop_service for a database", func() error { return policy(service.PolicyChange{StopService: ptr(true)}) }, 422, "stop_service"},
		{"another organization's destination", func() error { return policy(service.PolicyChange{DestinationID: &foreign.ID}) }, 422, "destination_id"},
		{"viewer creates a policy", func() error {
			_, err := svc.Backups.CreatePolicy(ctx, viewer, service.DatabaseOwner(db), service.PolicyChange{DestinationID: &dest.ID, Schedule: ptr("@daily")})
			return err
		}, 403, ""},
		{"viewer deletes a policy", func() error { return svc.Backups.DeletePolicy(ctx, viewer, pol) }, 403, ""},
		{"back up now without Docker", func() error { _, err := svc.Backups.RunNow(ctx, member, pol); return err }, 503, ""},
		{"a person enqueues a raw run", func() error {
			_, err := svc.Backups.Enqueue(ctx, owner, store.NewBackup{PolicyID: &pol.ID}, 0)
			return err
		}, 403, ""},

		{"member creates a destination", func() error {
			_, err := svc.Backups.CreateDestination(ctx, member, org.ID, service.NewDestination{Name: "d", PluginID: "backup.local"})
			return err
		}, 403, ""},
		{"destination without a name", func() error {
			_, err := svc.Backups.CreateDestination(ctx, admin, org.ID, service.NewDestination{Name: " ", PluginID: "backup.local"})
			return err
		}, 422, "name"},
		{"destination plugin cannot change", func() error {
			_, err := svc.Backups.UpdateDestination(ctx, admin, dest, service.DestinationChange{PluginID: ptr("backup.s3")})
			return err
		}, 422, "plugin_id"},
		{"destination in use", func() error { return svc.Backups.DeleteDestination(ctx, owner, dest) }, 409, "id"},
		{"member lists objects without Docker", func() error { _, err := svc.Backups.ListObjects(ctx, member, dest, "", false); return err }, 503, ""},

		{"restore from nothing", func() error {
			_, err := svc.Restores.RestoreDatabase(ctx, member, db, service.DatabaseRestore{})
			return err
		}, 422, "backup_id"},
		{"restore key without destination", func() error {
			_, err := svc.Restores.RestoreDatabase(ctx, member, db, service.DatabaseRestore{Key: ptr("a.dump")})
			return err
		}, 422, "destination_id"},
		{"restore an unknown backup", func() error {
			_, err := svc.Restores.RestoreDatabase(ctx, member, db, service.DatabaseRestore{BackupID: ptr(uuid.New())})
			return err
		}, 422, "backup_id"},
		{"restore from another organization's destination", func() error {
			_, err := svc.Restores.RestoreDatabase(ctx, member, db, service.DatabaseRestore{DestinationID: &foreign.ID, Key: ptr("a.dump")})
			return err
		}, 422, "destination_id"},
		{"viewer restores", func() error {
			_, err := svc.Restores.RestoreDatabase(ctx, viewer, db, service.DatabaseRestore{BackupID: ptr(uuid.New())})
			return err
		}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			var pe *problem.Error
			if !errors.As(problem.Classify(err), &pe) || pe.Status() != tt.status || pe.Field != tt.field {
				t.Fatalf("got %v (%+v), want %d naming %q", err, pe, tt.status, tt.field)
			}
		})
	}
}
