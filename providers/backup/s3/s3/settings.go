package s3

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/providers/backup/internal/objectkey"
	"github.com/berth-dev/berth/sdk"
)

// Settings are the plugin's settings. Their tags make the settings schema.
type Settings struct {
	// Endpoint is the URL of the S3 service, "https://s3.example.com" or
	// "http://10.0.0.5:9000". Empty: Amazon S3.
	Endpoint string `json:"endpoint,omitempty" jsonschema:"title=Endpoint,format=uri" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"URL of the S3 service, such as https://s3.eu-central-003.backblazeb2.com or http://10.0.0.5:9000. Leave empty for Amazon S3."`
	// Region is the bucket's region. Empty: asked from the service.
	Region string `json:"region,omitempty" jsonschema:"title=Region" jsonschema_description:"The bucket's region, such as eu-west-1. Leave empty to ask the service."`
	// Bucket is the bucket backups are stored in. It must exist.
	Bucket string `json:"bucket" jsonschema:"required,title=Bucket,minLength=3,maxLength=63" jsonschema_description:"An existing bucket."`
	// Prefix is a folder in the bucket every key is stored under
	// ("berth" stores "db/x" as "berth/db/x"). Empty: the bucket's top.
	Prefix string `json:"prefix,omitempty" jsonschema:"title=Prefix" jsonschema_description:"Folder inside the bucket that backups are stored under, such as berth/production. Leave empty for the top of the bucket."`
	// PathStyle addresses the bucket in the URL path
	// (https://host/bucket/key) rather than in the host name
	// (https://bucket.host/key). When off, the host name is used for Amazon
	// S3 and Google Cloud Storage, the path elsewhere.
	PathStyle bool `json:"path_style,omitempty" jsonschema:"title=Path-style addressing,default=false" jsonschema_description:"Put the bucket in the URL path (https://host/bucket) instead of the host name (https://bucket.host). Self-hosted servers usually need it."`
	// AccessKeyID and SecretAccessKey are the credentials; the secret is
	// write-only (never sent back, see core/writeonly).
	AccessKeyID     string `json:"access_key_id" jsonschema:"required,title=Access key ID"`
	SecretAccessKey string `json:"secret_access_key" jsonschema:"required,title=Secret access key,format=password,writeOnly=true"`
	// InsecureSkipVerify accepts any TLS certificate from the endpoint.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty" jsonschema:"title=Skip TLS verification,default=false" jsonschema_description:"Accept any certificate from the endpoint. Only for a server you trust on a network you trust."`
	// PartSizeMiB is the size of the parts of multipart uploads, in MiB
	// (5 to 5120, default 16). Each running upload holds one part in
	// memory; an object of unknown size can reach 10,000 parts.
	PartSizeMiB int `json:"part_size_mib,omitempty" jsonschema:"title=Upload part size (MiB),minimum=5,maximum=5120,default=16" jsonschema_description:"Uploads are sent in parts of this size; each running backup holds one part in memory. A backup can have at most 10,000 parts (about 156 GiB at 16 MiB)."`
}

// settingsSchema is the settings' schema.
var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("S3-compatible storage", "Stores backups in a bucket of Amazon S3 or any S3-compatible service (MinIO, Cloudflare R2, Backblaze B2, Wasabi, Garage, Ceph...)."))

// Limits of multipart uploads.
const (
	defaultPartSizeMiB = 16
	minPartSizeMiB     = 5
	maxPartSizeMiB     = 5 << 10
	maxParts           = 10000
)

// awsEndpoint is the endpoint used when none is set.
const awsEndpoint = "https://s3.amazonaws.com"

// Timeouts and retries of requests to the service. berth retries failed
// backups per its own policy, so the plugin gives up quickly.
const (
	dialTimeout = 10 * time.Second
	maxRetries  = 3
)

var regionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// config is validated settings and the client built from them.
type config struct {
	endpoint string // the endpoint's URL, for messages
	bucket   string
	prefix   string // "" or ending in "/"
	partSize int64  // bytes
	client   *minio.Core
}

// newConfig validates s, reporting each bad field, and builds the client.
// maxRetries is the number of attempts per request.
func newConfig(s Settings, retries int) (*config, error) {
	var errs sdk.ConfigError
	endpoint := s.Endpoint
	if endpoint == "" {
		endpoint = awsEndpoint
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		errs.Add("endpoint", "must be a URL such as https://s3.example.com or http://10.0.0.5:9000")
	case u.Scheme != "http" && u.Scheme != "https":
		errs.Add("endpoint", "must start with http:// or https://")
	case u.User != nil:
		errs.Add("endpoint", "must not contain credentials: use access_key_id and secret_access_key")
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		errs.Add("endpoint", "must be the service's address only, without a path: put the bucket in bucket and folders in prefix")
	}
	if s.Region != "" && !regionPattern.MatchString(s.Region) {
		errs.Add("region", "must be a region name such as eu-west-1")
	}
	switch {
	case s.Bucket == "":
		errs.Add("bucket", "is required")
	case s3utils.CheckValidBucketName(s.Bucket) != nil:
		errs.Add("bucket", "is not a valid bucket name: 3 to 63 lower-case letters, digits, dots and dashes")
	}
	prefix := strings.TrimSuffix(s.Prefix, "/")
	if prefix != "" {
		if err := objectkey.Validate(prefix); err != nil {
			errs.Add("prefix", `must be a folder path such as berth/production (no leading slash, no "..")`)
		}
		prefix += "/"
	}
	if s.AccessKeyID == "" {
		errs.Add("access_key_id", "is required")
	}
	if s.SecretAccessKey == "" {
		errs.Add("secret_access_key", "is required")
	}
	partMiB := s.PartSizeMiB
	if partMiB == 0 {
		partMiB = defaultPartSizeMiB
	}
	if partMiB < minPartSizeMiB || partMiB > maxPartSizeMiB {
		errs.Add("part_size_mib", fmt.Sprintf("must be between %d and %d", minPartSizeMiB, maxPartSizeMiB))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	secure := u.Scheme == "https"
	transport, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("HTTP transport: %w", err)
	}
	transport.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	if secure && s.InsecureSkipVerify {
		transport.TLSClientConfig.InsecureSkipVerify = true
	}
	lookup := minio.BucketLookupAuto
	if s.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.NewCore(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKeyID, s.SecretAccessKey, ""),
		Secure:       secure,
		Transport:    transport,
		Region:       s.Region,
		BucketLookup: lookup,
		MaxRetries:   retries,
	})
	if err != nil {
		return nil, sdk.NewConfigError("endpoint", err.Error())
	}
	return &config{
		endpoint: u.Scheme + "://" + u.Host,
		bucket:   s.Bucket,
		prefix:   prefix,
		partSize: int64(partMiB) << 20,
		client:   client,
	}, nil
}
