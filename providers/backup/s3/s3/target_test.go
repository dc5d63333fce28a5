package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/providers/backup/internal/targettest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/s3test"
)

// settingsFor returns settings for srv's bucket under prefix.
func settingsFor(srv *s3test.Server, prefix string) Settings {
	return Settings{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		Bucket:          srv.Bucket,
		Prefix:          prefix,
		PathStyle:       true,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		PartSizeMiB:     5, // the smallest S3 allows: several parts with little data
	}
}

// configure returns a Target configured with s.
func configure(t *testing.T, s Settings) *Target {
	t.Helper()
	target := New()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := target.Configure(t.Context(), &sdk.ConfigureRequest{Settings: raw}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return target
}

// expectNoUploads waits until no multipart upload is left under prefix
// (over gRPC the client returns before the plugin aborts its upload).
func expectNoUploads(t *testing.T, srv *s3test.Server, prefix string) {
	t.Helper()
	c := srv.Client(t)
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		left = left[:0]
		for u := range c.ListIncompleteUploads(t.Context(), srv.Bucket, prefix, true) {
			if u.Err != nil {
				t.Fatalf("listing incomplete uploads: %v", u.Err)
			}
			left = append(left, u.Key)
		}
		if len(left) == 0 {
			return
		}
	}
	t.Errorf("multipart uploads not aborted: %v", left)
}

func TestStreaming(t *testing.T) {
	srv := s3test.Start(t)
	clients := map[string]func(t *testing.T, prefix string) sdk.BackupTarget{
		"direct": func(t *testing.T, prefix string) sdk.BackupTarget { return configure(t, settingsFor(srv, prefix)) },
		"grpc": func(t *testing.T, prefix string) sdk.BackupTarget {
			return plugintest.BackupTarget(t, configure(t, settingsFor(srv, prefix)))
		},
	}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			prefix := "streaming-" + name
			b := client(t, prefix)
			t.Run("unknown_size_20MiB", func(t *testing.T) {
				targettest.RoundTripUnknownSize(t, b, "big/dump.sql.gz", 20<<20)
			})
			for _, size := range []int64{1 << 20, 12 << 20} { // one part, several parts
				t.Run("failing_body", func(t *testing.T) {
					targettest.FailingBody(t, b, "p/", size)
					expectNoUploads(t, srv, prefix+"/p/")
				})
				t.Run("cancelled", func(t *testing.T) {
					targettest.CancelledMidPut(t, b, "p/", size)
					expectNoUploads(t, srv, prefix+"/p/")
				})
			}
			t.Run("wrong_size", func(t *testing.T) {
				targettest.WrongSize(t, b, "p/")
			})
			t.Run("bad_keys", func(t *testing.T) {
				targettest.BadKeysRefused(t, b)
			})
		})
	}
}

func TestMultipartWrongSize(t *testing.T) {
	srv := s3test.Start(t)
	b := configure(t, settingsFor(srv, "sized"))
	body := bytes.Repeat([]byte("x"), 11<<20)
	for _, declared := range []int64{12 << 20, 10 << 20} {
		if _, err := b.Put(t.Context(), &sdk.PutRequest{Key: "k", Body: bytes.NewReader(body), Size: declared}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put of 11 MiB with Size %d = %v, want sdk.ErrInvalidArgument", declared, err)
		}
	}
	targettest.ExpectNothing(t, b, "")
	expectNoUploads(t, srv, "sized/")
}

func TestPrefixIsolation(t *testing.T) {
	srv := s3test.Start(t)
	ctx := t.Context()
	a := configure(t, settingsFor(srv, "team-a/"))
	b := configure(t, settingsFor(srv, "team-b"))
	top := configure(t, settingsFor(srv, ""))
	for target, key := range map[*Target]string{a: "db/one", b: "db/two"} {
		if _, err := target.Put(ctx, &sdk.PutRequest{Key: key, Body: strings.NewReader(key), Size: int64(len(key))}); err != nil {
			t.Fatal(err)
		}
	}
	// An object outside any prefix, written by someone else.
	if _, err := srv.Client(t).PutObject(ctx, srv.Bucket, "team-ab/db/three", strings.NewReader("3"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	keys := func(target *Target, prefix string) string {
		l, err := target.List(ctx, &sdk.ListRequest{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range l.Objects {
			out = append(out, o.Key)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		target       *Target
		prefix, want string
	}{
		{a, "", "db/one"},
		{a, "db/", "db/one"},
		{b, "", "db/two"},
		{top, "", "team-a/db/one,team-ab/db/three,team-b/db/two"},
		{top, "team-a/", "team-a/db/one"},
	} {
		if got := keys(c.target, c.prefix); got != c.want {
			t.Errorf("List(%q) under prefix %q = %s, want %s", c.prefix, c.target.cfg.prefix, got, c.want)
		}
	}
	if _, err := srv.Client(t).StatObject(ctx, srv.Bucket, "team-a/db/one", minio.StatObjectOptions{}); err != nil {
		t.Errorf("the object of prefix team-a is not stored at team-a/db/one: %v", err)
	}
	if _, err := a.Get(ctx, &sdk.GetRequest{Key: "db/two"}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get of another prefix's object = %v, want sdk.ErrNotFound", err)
	}
	if _, err := a.Delete(ctx, &sdk.DeleteRequest{Key: "db/two"}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete of another prefix's object = %v, want sdk.ErrNotFound", err)
	}
}

func TestMetadata(t *testing.T) {
	srv := s3test.Start(t)
	b := configure(t, settingsFor(srv, "meta"))
	ctx := t.Context()
	meta := map[string]string{"Content-Type": "application/gzip", "database": "shop", "note": "café, 日本 \"quoted\"", "empty": ""}
	if _, err := b.Put(ctx, &sdk.PutRequest{Key: "k", Body: strings.NewReader("x"), Size: 1, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	g, err := b.Get(ctx, &sdk.GetRequest{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	for k, v := range meta {
		if k == "empty" {
			continue // S3 services may drop empty values
		}
		if got := g.Object.Metadata[strings.ToLower(k)]; got != v {
			t.Errorf("metadata %q = %q, want %q (all: %v)", k, got, v, g.Object.Metadata)
		}
	}
	if _, err := b.Put(ctx, &sdk.PutRequest{Key: "k", Body: strings.NewReader("x"), Size: 1, Metadata: map[string]string{"bad key": "v"}}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Put with metadata key %q = %v, want sdk.ErrInvalidArgument", "bad key", err)
	}
}

func TestTestConnection(t *testing.T) {
	srv := s3test.Start(t)
	b := configure(t, settingsFor(srv, "probe"))
	r, err := b.TestConnection(t.Context(), &sdk.TestConnectionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "connected to bucket " + srv.Bucket + " at " + srv.Endpoint; r.Message != want {
		t.Errorf("TestConnection = %q, want %q", r.Message, want)
	}
	for o := range srv.Client(t).ListObjects(t.Context(), srv.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("TestConnection left %s (%v)", o.Key, o.Err)
	}

	s := settingsFor(srv, "")
	s.Bucket = "no-such-bucket"
	_, err = configure(t, s).TestConnection(t.Context(), &sdk.TestConnectionRequest{})
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "bucket no-such-bucket does not exist at "+srv.Endpoint) {
		t.Errorf("TestConnection(missing bucket) = %v, want sdk.ErrNotFound naming bucket and endpoint", err)
	}
}

func TestWrongCredentials(t *testing.T) {
	srv := s3test.Start(t)
	for name, change := range map[string]func(*Settings){
		"secret": func(s *Settings) { s.SecretAccessKey = "wrong-" + s.SecretAccessKey },
		"key":    func(s *Settings) { s.AccessKeyID = "nobody" },
	} {
		t.Run(name, func(t *testing.T) {
			s := settingsFor(srv, "creds")
			change(&s)
			b := plugintest.BackupTarget(t, configure(t, s))
			ctx := t.Context()
			calls := map[string]func() error{
				"TestConnection": func() error { _, err := b.TestConnection(ctx, &sdk.TestConnectionRequest{}); return err },
				"Put": func() error {
					_, err := b.Put(ctx, &sdk.PutRequest{Key: "k", Body: strings.NewReader("x"), Size: 1})
					return err
				},
				"Get":    func() error { _, err := b.Get(ctx, &sdk.GetRequest{Key: "k"}); return err },
				"List":   func() error { _, err := b.List(ctx, &sdk.ListRequest{}); return err },
				"Delete": func() error { _, err := b.Delete(ctx, &sdk.DeleteRequest{Key: "k"}); return err },
			}
			for call, do := range calls {
				err := do()
				if !errors.Is(err, sdk.ErrUnauthenticated) {
					t.Errorf("%s with a wrong %s = %v, want sdk.ErrUnauthenticated", call, name, err)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, "refused the credentials for bucket "+srv.Bucket) || !strings.Contains(msg, srv.Endpoint) {
					t.Errorf("%s: message %q does not name the bucket and endpoint", call, msg)
				}
				if strings.Contains(msg, srv.SecretKey) {
					t.Errorf("%s: the message shows the secret key", call)
				}
			}
		})
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	b := plugintest.BackupTarget(t, configure(t, Settings{Endpoint: endpoint, Region: "us-east-1", Bucket: "backups", PathStyle: true, AccessKeyID: "a", SecretAccessKey: "s"}))
	// The deadline only keeps a regression from hanging the suite; the
	// plugin gives up after a few quick retries.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, err = b.TestConnection(ctx, &sdk.TestConnectionRequest{})
	t.Logf("TestConnection failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	want := "cannot reach S3 endpoint " + endpoint + ": connection refused"
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), want) {
		t.Errorf("TestConnection = %v, want sdk.ErrUnavailable with %q", err, want)
	}
	_, err = b.Put(ctx, &sdk.PutRequest{Key: "k", Body: strings.NewReader("x"), Size: 1})
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), want) {
		t.Errorf("Put = %v, want sdk.ErrUnavailable with %q", err, want)
	}
}

func TestConfigure(t *testing.T) {
	valid := `"bucket": "backups", "access_key_id": "a", "secret_access_key": "s"`
	tests := []struct {
		settings string
		field    string
	}{
		{`{}`, "bucket"},
		{`{"bucket": "backups", "secret_access_key": "s"}`, "access_key_id"},
		{`{"bucket": "backups", "access_key_id": "a"}`, "secret_access_key"},
		{`{"bucket": "Not_A_Bucket!", "access_key_id": "a", "secret_access_key": "s"}`, "bucket"},
		{`{"endpoint": "s3.example.com", ` + valid + `}`, "endpoint"},
		{`{"endpoint": "ftp://s3.example.com", ` + valid + `}`, "endpoint"},
		{`{"endpoint": "https://user:pw@s3.example.com", ` + valid + `}`, "endpoint"},
		{`{"endpoint": "https://s3.example.com/backups", ` + valid + `}`, "endpoint"},
		{`{"region": "eu west", ` + valid + `}`, "region"},
		{`{"prefix": "/abs", ` + valid + `}`, "prefix"},
		{`{"prefix": "a/../b", ` + valid + `}`, "prefix"},
		{`{"part_size_mib": 4, ` + valid + `}`, "part_size_mib"},
		{`{"path_style": "yes", ` + valid + `}`, "path_style"},
		{`{"secret": "s", ` + valid + `}`, "secret"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		if !errors.As(err, &cfg) || cfg.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want a field error on %q first", tt.settings, err, tt.field)
		}
	}
	for _, ok := range []string{
		`{` + valid + `}`,
		`{"endpoint": "https://s3.example.com/", "region": "garage", "prefix": "berth/prod/", "path_style": true, "part_size_mib": 64, ` + valid + `}`,
	} {
		if _, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(ok)}); err != nil {
			t.Errorf("Configure(%s) = %v", ok, err)
		}
	}
	if _, err := New().List(t.Context(), &sdk.ListRequest{}); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("List before Configure = %v, want sdk.ErrNotConfigured", err)
	}
}

func TestSchemaMarksTheSecret(t *testing.T) {
	r, err := New().ConfigSchema(t.Context(), &sdk.ConfigSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(r.Settings, &schema); err != nil {
		t.Fatal(err)
	}
	secret := schema.Properties["secret_access_key"]
	if secret["writeOnly"] != true || secret["format"] != "password" {
		t.Errorf("secret_access_key schema = %v, want writeOnly and format password", secret)
	}
	// Every setting has a schema property, and nothing else.
	raw, _ := json.Marshal(Settings{})
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	for name := range fields {
		if _, ok := schema.Properties[name]; !ok {
			t.Errorf("setting %q is missing from the schema", name)
		}
	}
	if len(schema.Properties) != 9 {
		t.Errorf("schema has %d properties, want 9", len(schema.Properties))
	}
}
