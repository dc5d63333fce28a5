package eventview

import (
	"reflect"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestFields(t *testing.T) {
	tests := []struct {
		typ  sdk.EventType
		want []string
	}{
		{sdk.EventDeployFailed, []string{"Project=shop", "App=api", "Deployment=dep-1", "Branch=main", "Commit=0123456789ab", "Image=shop/api:42", "Trigger=push", "Duration=1m33s", "Error=build failed: exit status 1", "environment=production"}},
		{sdk.EventBackupSucceeded, []string{"Project=shop", "App=api", "Backup=bak-1", "Database=shop-db", "Target=offsite", "Size=12.0 MiB", "Duration=8s", "Key=postgres/shop-db/2025-01-02.sql.gz", "environment=production"}},
		{sdk.EventThresholdCrossed, []string{"Project=shop", "App=api", "Resource=server", "Metric=disk", "Value=91.5%", "Limit=90%", "environment=production"}},
		{sdk.EventCleanupDone, []string{"Project=shop", "App=api", "Reclaimed=3.0 GiB", "Images removed=12", "Containers removed=4", "Volumes removed=1", "environment=production"}},
		{sdk.EventBerthRestarted, []string{"Project=shop", "App=api", "Version=1.2.3", "Reason=upgrade", "Previous shutdown=clean", "environment=production"}},
		{sdk.EventBuildFailed, []string{"Project=shop", "App=api", "Deployment=dep-1", "Branch=main", "Commit=0123456789ab", "Image=shop/api:42", "Trigger=push", "Duration=1m33s", "Builder=builder.dockerfile", "Failed step=build", "Error=build failed: exit status 1", "environment=production"}},
		{sdk.EventRollback, []string{"Project=shop", "App=api", "Deployment=dep-1", "Branch=main", "Commit=0123456789ab", "Image=shop/api:42", "Trigger=rollback", "Duration=1m33s", "Rolled back from=dep-2", "Rolled back to=dep-1", "environment=production"}},
		{sdk.EventPreviewCreated, []string{"Project=shop", "App=api", "Pull request=#17", "Branch=feature/cart", "Domain=pr-17.api.shop.example.com", "Pull request URL=https://git.example.test/shop/api/pull/17", "environment=production"}},
		{sdk.EventBackupMissed, []string{"Project=shop", "App=api", "Backup=bak-1", "Database=shop-db", "Target=offsite", "Schedule=0 3 * * *", "Missed at=2025-01-02T03:00:00Z", "Error=2 scheduled backup run(s) were missed while berth was down", "environment=production"}},
		{sdk.EventVolumeBackupFail, []string{"Project=shop", "App=api", "Backup=bak-1", "Volumes of=api", "Target=offsite", "Size=12.0 MiB", "Duration=8s", "Key=volumes/api/2025-01-02.tar.gz", "Error=archiving volume api-data: no space left on device", "environment=production"}},
		{sdk.EventRestoreFailed, []string{"Project=shop", "App=api", "Restore=rst-1", "Backup=bak-1", "Database=shop-db", "Target=offsite", "Duration=21s", "Error=pg_restore: exit status 1", "environment=production"}},
		{sdk.EventCertExpiring, []string{"Project=shop", "App=api", "Domains=shop.example.com, www.shop.example.com", "Expires=2025-01-12T00:00:00Z", "Days left=9", "Issuer=R11", "Resolver=letsencrypt", "environment=production"}},
		{sdk.EventPluginCrashed, []string{"Project=shop", "App=api", "Plugin=notifier.slack", "Version=0.4.0", "Crashes=3", "Last error=exit status 2", "environment=production"}},
		{sdk.EventJobFailed, []string{"Project=shop", "App=api", "Job=nightly-report", "Run=run-9", "Exit code=2", "Error=exit status 2", "environment=production"}},
		{"future", []string{"Project=shop", "App=api", "environment=production"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range Fields(plugintest.SampleEvent(tt.typ)) {
			got = append(got, f.Name+"="+f.Value)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Fields(%s) =\n%q\nwant\n%q", tt.typ, got, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bytes(0), "0 B"},
		{Bytes(1023), "1023 B"},
		{Bytes(1536), "1.5 KiB"},
		{Bytes(5 << 40), "5.0 TiB"},
		{Duration(0), ""},
		{Duration(1500 * time.Microsecond), "2ms"},
		{Duration(93*time.Second + 400*time.Millisecond), "1m33s"},
		{Measure(2, "bytes"), "2 B"},
		{Measure(0.5, "load"), "0.5 load"},
		{Measure(3, ""), "3"},
		{ShortCommit("abc"), "abc"},
		{SeverityLabel("weird"), "Info"},
		{SeverityLabel(sdk.SeverityWarning), "Warning"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}
