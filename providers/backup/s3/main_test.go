package main

import (
	"encoding/json"
	"testing"

	"github.com/berth-dev/berth/providers/backup/s3/s3"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/s3test"
)

// suite returns the conformance suite against a real S3 server (versitygw),
// under a prefix of its own.
func suite(t *testing.T, srv *s3test.Server, prefix string) plugintest.BackupTargetSuite {
	settings, err := json.Marshal(s3.Settings{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		Bucket:          srv.Bucket,
		Prefix:          prefix,
		PathStyle:       true,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return plugintest.BackupTargetSuite{BaseSuite: plugintest.BaseSuite{
		Settings:        settings,
		InvalidSettings: json.RawMessage(`{"endpoint": "ftp://example.com", "bucket": "b", "access_key_id": "a", "secret_access_key": "s"}`),
	}}
}

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestBackupTarget(t, plugintest.BackupTarget(t, s3.New()), suite(t, srv, "in-process"))
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestBackupTarget(t, plugintest.Launch(t, bin).(sdk.BackupTarget), suite(t, srv, "subprocess/"))
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), s3.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "backup.s3" || d.Kind != sdk.KindBackup || d.Name != "s3" {
		t.Errorf("Describe = %s (%s, %s), want backup.s3", d.ID, d.Kind, d.Name)
	}
}
