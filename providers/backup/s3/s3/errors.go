package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/sdk"
)

// S3 error codes the target tells apart.
var (
	notFoundCodes = map[string]bool{"NoSuchKey": true, "NotFound": true}
	authCodes     = map[string]bool{
		"AccessDenied": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
		"InvalidToken": true, "ExpiredToken": true, "AuthorizationHeaderMalformed": true,
		"InvalidSecurity": true, "AccountProblem": true, "AllAccessDisabled": true,
		"XAdminUserNotFound": true, // versitygw, for an unknown access key (HTTP 404)
	}
)

// explain turns an error of the S3 client into one that says what went
// wrong for a person and wraps the matching sdk sentinel:
// sdk.ErrNotFound for a missing object or bucket, sdk.ErrUnauthenticated
// for refused credentials, sdk.ErrUnavailable for an unreachable or
// failing service, and the context's error when the call was cancelled.
// what names the operation, such as "get db/x".
func (c *config) explain(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", what, ctxErr)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code != "" || resp.StatusCode != 0) {
		return c.explainResponse(what, resp)
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostnameErr) {
		return fmt.Errorf("%s: the TLS certificate of S3 endpoint %s is not trusted (%v); fix the certificate, or set insecure_skip_verify only for a server you trust", what, c.endpoint, err)
	}
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) {
		return fmt.Errorf("%s: %w", what, &unreachableError{endpoint: c.endpoint, cause: networkCause(err), err: err})
	}
	return fmt.Errorf("%s: S3 endpoint %s, bucket %s: %w", what, c.endpoint, c.bucket, err)
}

// explainResponse explains an error answer of the service.
func (c *config) explainResponse(what string, resp minio.ErrorResponse) error {
	detail := resp.Code
	if resp.Message != "" {
		detail += ": " + resp.Message
	}
	switch {
	case resp.Code == "NoSuchBucket":
		return fmt.Errorf("%s: bucket %s does not exist at %s: %w", what, c.bucket, c.endpoint, sdk.ErrNotFound)
	case notFoundCodes[resp.Code] || (resp.Code == "" && resp.StatusCode == http.StatusNotFound):
		return fmt.Errorf("%s: no such object in bucket %s: %w", what, c.bucket, sdk.ErrNotFound)
	case authCodes[resp.Code] || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: S3 endpoint %s refused the credentials for bucket %s (%s); check access_key_id, secret_access_key and the key's permissions on the bucket: %w",
			what, c.endpoint, c.bucket, detail, sdk.ErrUnauthenticated)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.Code == "SlowDown":
		return fmt.Errorf("%s: S3 endpoint %s is failing (%s, HTTP %d): %w", what, c.endpoint, detail, resp.StatusCode, sdk.ErrUnavailable)
	}
	return fmt.Errorf("%s: S3 endpoint %s, bucket %s answered %s (HTTP %d)", what, c.endpoint, c.bucket, detail, resp.StatusCode)
}

// unreachableError reports a service that could not be reached. It matches
// sdk.ErrUnavailable and the network error.
type unreachableError struct {
	endpoint string
	cause    string
	err      error
}

func (e *unreachableError) Error() string {
	return "cannot reach S3 endpoint " + e.endpoint + ": " + e.cause
}

func (e *unreachableError) Unwrap() []error { return []error{sdk.ErrUnavailable, e.err} }

// networkCause names the cause of a network error briefly: "connection
// refused", "no such host", "timed out".
func networkCause(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host " + dnsErr.Name
		}
		return "cannot resolve " + dnsErr.Name + ": " + dnsErr.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timed out"
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}
