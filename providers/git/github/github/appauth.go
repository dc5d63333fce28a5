package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// JWT lifetimes as GitHub documents them: issued 60 seconds in the past to
// allow for clock drift, expiring in at most 10 minutes (9 here).
const (
	jwtBackdate = 60 * time.Second
	jwtLifetime = 9 * time.Minute
)

// tokenMargin is how long before its expiry a cached installation token is
// replaced.
const tokenMargin = time.Minute

var (
	// appIDPattern accepts an app id (digits) or a client id ("Iv23li...").
	appIDPattern = regexp.MustCompile(`^[A-Za-z0-9.]{1,100}$`)
	// installationIDPattern is an installation id.
	installationIDPattern = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// tokenCache holds installation tokens by connection (API root, app,
// installation and key), each entry with its own lock so that one slow
// exchange does not hold up other connections.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]*cachedToken
}

// cachedToken is one installation token.
type cachedToken struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{entries: map[string]*cachedToken{}} }

// entry returns the cache entry of key, creating it.
func (c *tokenCache) entry(key string) *cachedToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		e = &cachedToken{}
		c.entries[key] = e
	}
	return e
}

// forget drops the token of key.
func (c *tokenCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// cacheKey identifies a GitHub App installation on an API root. The key
// itself is hashed, never kept in clear in the key.
func cacheKey(c *conn) string {
	app := c.creds.App
	sum := sha256.Sum256(app.PrivateKey)
	return c.api.String() + "\x00" + app.AppID + "\x00" + app.InstallationID + "\x00" + hex.EncodeToString(sum[:])
}

// installationToken returns an installation token for the connection's
// GitHub App: the cached one while it has more than a minute to live, else
// a new one from POST /app/installations/{id}/access_tokens.
func (p *Provider) installationToken(ctx context.Context, c *conn) (string, error) {
	app := c.creds.App
	switch {
	case !appIDPattern.MatchString(app.AppID):
		return "", fmt.Errorf("github app: app id %q must be the app's numeric id or its client id: %w", app.AppID, sdk.ErrInvalidArgument)
	case !installationIDPattern.MatchString(app.InstallationID):
		return "", fmt.Errorf("github app: installation id %q must be a number: %w", app.InstallationID, sdk.ErrInvalidArgument)
	}
	e := p.tokens.entry(cacheKey(c))
	e.mu.Lock()
	defer e.mu.Unlock()
	now := p.now()
	if e.token != "" && now.Before(e.expires.Add(-tokenMargin)) {
		return e.token, nil
	}
	key, err := parsePrivateKey(app.PrivateKey)
	if err != nil {
		return "", err
	}
	jwt, err := signAppJWT(app.AppID, key, now)
	if err != nil {
		return "", err
	}
	api := p.client(c)
	api.Header.Set("Authorization", "Bearer "+jwt)
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if _, err := api.Do(ctx, http.MethodPost, "app/installations/"+app.InstallationID+"/access_tokens", nil, &out); err != nil {
		return "", fmt.Errorf("github app %s: exchanging a JWT for a token of installation %s: %w", app.AppID, app.InstallationID, err)
	}
	if out.Token == "" {
		return "", fmt.Errorf("github app %s: the access token answer has no token: %w", app.AppID, sdk.ErrUnavailable)
	}
	e.token, e.expires = out.Token, out.ExpiresAt
	if out.ExpiresAt.IsZero() {
		e.token = "" // no expiry given: use it for this call only
	}
	return out.Token, nil
}

// parsePrivateKey reads a GitHub App private key: PEM, PKCS#1 ("RSA PRIVATE
// KEY", what GitHub generates) or PKCS#8.
func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("github app: the private key is not PEM (paste the whole .pem file GitHub generated): %w", sdk.ErrInvalidArgument)
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("github app: the private key is neither PKCS#1 nor PKCS#8: %w", sdk.ErrInvalidArgument)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("github app: the private key is not an RSA key: %w", sdk.ErrInvalidArgument)
	}
	return key, nil
}

// signAppJWT returns the RS256 JSON Web Token that authenticates as the
// app: iss is the app id (a JSON number when numeric, as GitHub's examples
// send it; else the client id as a string), iat 60 seconds ago, exp 9
// minutes ahead.
func signAppJWT(appID string, key *rsa.PrivateKey, now time.Time) (string, error) {
	var iss any = appID
	if n, err := strconv.ParseInt(appID, 10, 64); err == nil {
		iss = n
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-jwtBackdate).Unix(),
		"exp": now.Add(jwtLifetime).Unix(),
		"iss": iss,
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("github app: signing the JWT: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}
