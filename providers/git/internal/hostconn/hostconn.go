// Package hostconn is one request's connection to a hosted git provider
// whose connections are made per request (GitLab, Bitbucket): the REST
// client carrying the request's credentials, and the host the provider's
// repositories live on.
package hostconn

import (
	"fmt"

	"github.com/berth-dev/berth/providers/git/internal/repoaddr"
	"github.com/berth-dev/berth/providers/git/internal/restapi"
	"github.com/berth-dev/berth/sdk"
)

// Conn is one request's view of a provider.
type Conn struct {
	// API calls the provider's REST API with the request's credentials.
	API *restapi.Client
	// Host is where the provider's repositories are cloned from.
	Host repoaddr.Host
}

// Open connects with creds through connect and resolves repository on the
// connection's host. Errors start with what ("gitlab: list branches").
func Open(connect func(*sdk.Credentials) (*Conn, error), creds *sdk.Credentials, repository, what string) (*Conn, repoaddr.Address, error) {
	conn, err := connect(creds)
	if err != nil {
		return nil, repoaddr.Address{}, fmt.Errorf("%s: %w", what, err)
	}
	addr, err := conn.Host.Parse(repository)
	if err != nil {
		return nil, repoaddr.Address{}, fmt.Errorf("%s: %w", what, err)
	}
	return conn, addr, nil
}
