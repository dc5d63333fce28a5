// Package s3 implements berth's S3 backup target (id backup.s3): it stores
// backup objects in a bucket of Amazon S3 or any S3-compatible service,
// through github.com/minio/minio-go.
//
// Every key is stored under the configured prefix, added and stripped
// transparently. Uploads stream: an object smaller than one part goes up in
// a single PUT once its body ended; a larger one as a multipart upload, one
// part in memory at a time, completed only once the body ended without
// error (and had the declared size), and aborted otherwise. So a failed or
// cancelled Put never leaves an object behind. Metadata is stored as S3
// user metadata: keys come back lower-case, and values that are not plain
// ASCII are stored RFC 2047-encoded and decoded again by Get.
//
// Errors name the endpoint and bucket and wrap sdk.ErrNotFound (missing
// object or bucket), sdk.ErrUnauthenticated (credentials refused) or
// sdk.ErrUnavailable (endpoint unreachable or failing). The secret key never
// appears in an error or a log line.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/providers/backup/internal/objectkey"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "backup.s3"

// Version is the plugin's version.
const Version = "1.0.0"

// probePrefix starts the name of TestConnection's probe object.
const probePrefix = ".berth-probe-"

// Target is the S3 backup target. Use New.
type Target struct {
	sdk.UnimplementedBackupTarget

	retries int // attempts per request

	mu  sync.RWMutex
	cfg *config // nil until configured
}

// New returns an unconfigured Target.
func New() *Target { return &Target{retries: maxRetries} }

// Info describes the plugin.
func (t *Target) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          ID,
		Version:     Version,
		Description: "Stores backups in a bucket of Amazon S3 or any S3-compatible service.",
	}, nil
}

// ConfigSchema returns the settings schema.
func (t *Target) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure validates settings, naming each bad field, and builds the
// client. It does not contact the service: TestConnection does.
func (t *Target) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	cfg, err := newConfig(s, t.retries)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.cfg = cfg
	t.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// config returns the current configuration.
func (t *Target) config() (*config, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.cfg == nil {
		return nil, sdk.ErrNotConfigured
	}
	return t.cfg, nil
}

// Get opens the object; the caller closes the body.
func (t *Target) Get(ctx context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error) {
	c, err := t.config()
	if err != nil {
		return nil, err
	}
	if err := objectkey.Validate(req.Key); err != nil {
		return nil, err
	}
	body, info, _, err := c.client.GetObject(ctx, c.bucket, c.prefix+req.Key, minio.GetObjectOptions{})
	if err != nil {
		return nil, c.explain(ctx, "get "+req.Key, err)
	}
	return &sdk.GetResponse{
		Object: sdk.ObjectInfo{Key: req.Key, Size: info.Size, Modified: info.LastModified, Metadata: decodeMetadata(info.UserMetadata)},
		Body:   body,
	}, nil
}

// List lists the objects under the prefix, through every page of the
// listing, sorted by key. It reports key, size and modification time; Get
// returns an object's metadata.
func (t *Target) List(ctx context.Context, req *sdk.ListRequest) (*sdk.ListResponse, error) {
	c, err := t.config()
	if err != nil {
		return nil, err
	}
	if err := objectkey.ValidatePrefix(req.Prefix); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx) // stops the lister if we return early
	defer cancel()
	out := &sdk.ListResponse{Objects: []sdk.ObjectInfo{}}
	for o := range c.client.Client.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: c.prefix + req.Prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, c.explain(ctx, fmt.Sprintf("list %q", req.Prefix), o.Err)
		}
		key, ok := strings.CutPrefix(o.Key, c.prefix)
		if !ok || objectkey.Validate(key) != nil || strings.HasPrefix(key, probePrefix) {
			continue // folder markers ("a/"), keys berth could not ask for, probes
		}
		out.Objects = append(out.Objects, sdk.ObjectInfo{Key: key, Size: o.Size, Modified: o.LastModified})
	}
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Key < out.Objects[j].Key })
	return out, nil
}

// Delete removes the object. S3 deletes missing objects without complaint,
// so the object is looked up first to report sdk.ErrNotFound.
func (t *Target) Delete(ctx context.Context, req *sdk.DeleteRequest) (*sdk.DeleteResponse, error) {
	c, err := t.config()
	if err != nil {
		return nil, err
	}
	if err := objectkey.Validate(req.Key); err != nil {
		return nil, err
	}
	what := "delete " + req.Key
	if _, err := c.client.StatObject(ctx, c.bucket, c.prefix+req.Key, minio.StatObjectOptions{}); err != nil {
		err = c.explain(ctx, what, err)
		if errors.Is(err, sdk.ErrNotFound) {
			// A HEAD answer has no body to say why: some services answer
			// 404 to unknown credentials. Ask again with a request that
			// does.
			if aerr := c.checkAccess(ctx, what); aerr != nil {
				return nil, aerr
			}
		}
		return nil, err
	}
	if err := c.client.RemoveObject(ctx, c.bucket, c.prefix+req.Key, minio.RemoveObjectOptions{}); err != nil {
		return nil, c.explain(ctx, what, err)
	}
	return &sdk.DeleteResponse{}, nil
}

// TestConnection checks that the bucket exists and that the credentials can
// list, write and delete under the prefix, with a probe object of a few bytes
// that no listing shows.
func (t *Target) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	c, err := t.config()
	if err != nil {
		return nil, err
	}
	if err := c.checkAccess(ctx, "checking bucket "+c.bucket); err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	probe := c.prefix + probePrefix + hex.EncodeToString(b[:])
	data := "berth write probe\n"
	if _, err := c.client.PutObject(ctx, c.bucket, probe, strings.NewReader(data), int64(len(data)), "", "", minio.PutObjectOptions{}); err != nil {
		return nil, c.explain(ctx, "writing a test object to bucket "+c.bucket, err)
	}
	if err := c.client.RemoveObject(ctx, c.bucket, probe, minio.RemoveObjectOptions{}); err != nil {
		return nil, c.explain(ctx, "deleting the test object "+probe+" from bucket "+c.bucket, err)
	}
	return &sdk.TestConnectionResponse{Message: fmt.Sprintf("connected to bucket %s at %s", c.bucket, c.endpoint)}, nil
}

// checkAccess lists at most one object under the prefix, which tells
// whether the bucket exists and the credentials may read it: a listing's
// error answers, unlike those of HEAD requests, say what is wrong.
func (c *config) checkAccess(ctx context.Context, what string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range c.client.Client.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: c.prefix, MaxKeys: 1}) {
		if o.Err != nil {
			return c.explain(ctx, what, o.Err)
		}
		break
	}
	return nil
}

// metaPrefix marks user metadata headers; minio-go sends keys carrying it
// as they are.
const metaPrefix = "x-amz-meta-"

// encodeMetadata turns metadata into S3 user metadata headers: lower-case
// keys that must be HTTP header names, values RFC 2047-encoded when they
// are not printable ASCII.
func encodeMetadata(meta map[string]string) (map[string]string, error) {
	if len(meta) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		if !isToken(k) {
			return nil, fmt.Errorf("metadata key %q must be letters, digits and - _ . only: %w", k, sdk.ErrInvalidArgument)
		}
		out[metaPrefix+strings.ToLower(k)] = mime.BEncoding.Encode("utf-8", v)
	}
	return out, nil
}

// decodeMetadata reverses encodeMetadata on what the service returns.
func decodeMetadata(user map[string]string) map[string]string {
	if len(user) == 0 {
		return nil
	}
	dec := new(mime.WordDecoder)
	out := make(map[string]string, len(user))
	for k, v := range user {
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		out[strings.ToLower(k)] = v
	}
	return out
}

// isToken reports whether s is a non-empty HTTP header name made of
// letters, digits and - _ . (the characters every S3 service keeps).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
