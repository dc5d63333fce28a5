// Package clonefetch fetches the repositories of berth's hosted git
// providers with the shared git client (gitclient): clones stay on the provider's
// host (local paths are refused) and carry the credentials the host
// expects over git, which each provider translates from its connection's.
package clonefetch

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/providers/git/internal/gitclient"
	"github.com/berth-dev/berth/sdk"
)

// Fetcher clones for one provider. Use New.
type Fetcher struct {
	provider string
}

// options are the git client's: repositories are always on the provider's
// host (no local paths), and submodules are checked out.
var options = gitclient.Options{AllowLocal: false, Submodules: true}

// New returns the Fetcher of provider ("github"), which names it in
// errors.
func New(provider string) *Fetcher {
	return &Fetcher{provider: provider}
}

// Fetch checks out req.Ref of cloneURL into req.Dir, authenticating with
// creds (what git sends, already translated for the host) instead of
// req.Credentials.
func (f *Fetcher) Fetch(ctx context.Context, req *sdk.FetchRequest, cloneURL string, creds *sdk.Credentials) (*sdk.FetchResponse, error) {
	fetch := *req
	fetch.Repository, fetch.Credentials = cloneURL, creds
	r, err := gitclient.Fetch(ctx, options, &fetch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.provider, err)
	}
	return r, nil
}

// SSHKeys returns the ssh part of creds (the deploy key and known hosts),
// for a clone over ssh.
func SSHKeys(creds *sdk.Credentials) *sdk.Credentials {
	if creds == nil {
		return &sdk.Credentials{}
	}
	return &sdk.Credentials{SSHPrivateKey: creds.SSHPrivateKey, SSHKnownHosts: creds.SSHKnownHosts}
}
