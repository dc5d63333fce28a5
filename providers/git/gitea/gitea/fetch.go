package gitea

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/sdk"
)

// tokenUser is the user name sent with an access token when the connection
// names none: Gitea authenticates git over https by the token alone (the
// password), whatever the user name.
const tokenUser = "berth"

// Fetch checks out a ref of a Gitea repository ("owner/repo", or an https
// or ssh clone URL on the connection's instance) with the generic git
// provider. Over https it authenticates with the access token as the
// password (basic authentication, as Gitea expects), or with the user name
// and password; over ssh with the connection's deploy key.
func (p *Provider) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gitea: fetch: %w", err)
	}
	c, addr, err := p.repository(req.Credentials, req.Repository)
	if err != nil {
		return nil, err
	}
	creds := &sdk.Credentials{}
	switch {
	case addr.SSH:
		creds.SSHPrivateKey, creds.SSHKnownHosts = c.creds.SSHPrivateKey, c.creds.SSHKnownHosts
	case c.creds.Token != "":
		creds.Username, creds.Password = c.creds.Username, c.creds.Token
		if creds.Username == "" {
			creds.Username = tokenUser
		}
	case c.creds.Username != "" && c.creds.Password != "":
		creds.Username, creds.Password = c.creds.Username, c.creds.Password
	}
	return p.fetcher.Fetch(ctx, req, addr.CloneURL, creds)
}
