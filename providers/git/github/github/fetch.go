package github

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/providers/git/internal/clonefetch"
	"github.com/berth-dev/berth/sdk"
)

// gitUser is the user name GitHub documents for cloning over https with an
// installation token; personal access tokens accept it as well.
const gitUser = "x-access-token"

// Fetch checks out a ref of a GitHub repository ("owner/repo", or an https
// or ssh clone URL on the connection's host) with the generic git
// provider. Over https it authenticates as x-access-token with the
// connection's token (a GitHub App's installation token included); over
// ssh with the connection's deploy key.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("github: fetch: %w", err)
	}
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	creds := &sdk.Credentials{}
	if addr.SSH {
		creds = clonefetch.SSHKeys(&c.creds)
	} else {
		tok, err := p.token(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("github: fetch %s: %w", addr.FullName, err)
		}
		if tok != "" {
			creds.Username, creds.Password = gitUser, tok
			if c.creds.App == nil && c.creds.Username != "" {
				creds.Username = c.creds.Username
			}
		}
	}
	r, err := p.fetcher.Fetch(ctx, req, addr.CloneURL, creds)
	if err != nil && c.creds.App != nil && errors.Is(err, sdk.ErrUnauthenticated) {
		p.tokens.forget(cacheKey(c)) // revoked early: exchange a new one next time
	}
	return r, err
}
