package netguard

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// statusPatterns find the HTTP status in the messages of berth's plugins
// ("server error (500 Internal Server Error)", "rejected (401)",
// "HTTP 503", "StatusCode: 403").
var statusPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\((\d{3})[ )]`),
	regexp.MustCompile(`\bHTTP[ /](\d{3})\b`),
	regexp.MustCompile(`\bStatusCode:? (\d{3})\b`),
	regexp.MustCompile(`\bstatus (?:code )?(\d{3})\b`),
}

// Describe summarizes a failed outbound request for the tenant who asked
// for it: the kind of failure ("the host answered 500", "connection
// refused", "TLS error", ...) and never what the remote host answered,
// which could be an internal service's response. The full error belongs in
// the server log. A *BlockedError and a plugin's own refusals (an
// *sdk.ConfigError, or an invalid-argument or not-configured error that
// carries no HTTP status, so no remote answer) are returned as they are.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var be *BlockedError
	var ce *sdk.ConfigError
	if errors.As(err, &be) || errors.As(err, &ce) {
		return err.Error()
	}
	if d := describe(err); d != Unclassified || !(errors.Is(err, sdk.ErrInvalidArgument) || errors.Is(err, sdk.ErrNotConfigured)) {
		return d
	}
	return err.Error()
}

func describe(err error) string {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out"):
		return "the request timed out"
	case errors.Is(err, context.Canceled):
		return "the request was cancelled"
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "no such host") || strings.Contains(msg, "server misbehaving") || strings.Contains(msg, "does not resolve"):
		return "the host name does not resolve"
	case strings.Contains(msg, "network is unreachable") || strings.Contains(msg, "no route to host"):
		return "the host is unreachable"
	case strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "eof"):
		if !strings.Contains(msg, "x509") && !strings.Contains(msg, "tls") {
			return "the connection was closed by the host"
		}
		fallthrough
	case strings.Contains(msg, "x509") || strings.Contains(msg, "tls") || strings.Contains(msg, "certificate"):
		return "TLS error (the host's certificate is not trusted or the handshake failed)"
	}
	if code := statusCode(err.Error()); code > 0 {
		d := "the host answered " + strconv.Itoa(code)
		switch {
		case code == 401 || code == 403 || errors.Is(err, sdk.ErrUnauthenticated):
			d += ": the credentials were refused or lack permission"
		case code == 404 || code == 410:
			d += ": not found"
		case code == 429:
			d += ": rate limited, try again later"
		case code >= 500:
			d += ": the host is failing"
		case code >= 300 && code < 400:
			d += ": an unexpected redirect (is the URL the service's API root?)"
		}
		return d
	}
	switch {
	case errors.Is(err, sdk.ErrUnauthenticated):
		return "the host refused the credentials"
	case errors.Is(err, sdk.ErrNotFound):
		return "not found"
	case errors.Is(err, sdk.ErrUnavailable):
		return "the host is unavailable"
	}
	return Unclassified
}

// Unclassified is what Describe says of a failure it cannot classify.
const Unclassified = "the request failed (the details are in the server log)"

func statusCode(msg string) int {
	for _, re := range statusPatterns {
		if m := re.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 100 && n <= 599 {
				return n
			}
		}
	}
	return 0
}
