package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// gitServer serves the GitProvider service from a GitProvider.
type gitServer struct {
	pb.UnimplementedGitProviderServer
	impl GitProvider
}

func (s *gitServer) Fetch(in *pb.FetchRequest, stream pb.GitProvider_FetchServer) error {
	logs := newServerLog(func(l *pb.LogLine) error {
		return stream.Send(&pb.FetchEvent{Event: &pb.FetchEvent_Log{Log: l}})
	})
	r, err := s.impl.Fetch(stream.Context(), &FetchRequest{
		Repository:  in.GetRepository(),
		Ref:         in.GetRef(),
		Dir:         in.GetDir(),
		Credentials: credentialsFromWire(in.GetCredentials()),
		Depth:       int(in.GetDepth()),
		Log:         logs.log,
	})
	if err != nil {
		return toStatus(err)
	}
	if r == nil {
		return toStatus(errNilResponse("Fetch"))
	}
	return logs.sendFinal(func() error {
		return stream.Send(&pb.FetchEvent{Event: &pb.FetchEvent_Result{Result: &pb.FetchResult{Commit: r.Commit, Ref: r.Ref, Subject: r.Subject}}})
	})
}

func (s *gitServer) ListRepositories(ctx context.Context, in *pb.ListRepositoriesRequest) (*pb.ListRepositoriesResponse, error) {
	r, err := s.impl.ListRepositories(ctx, &ListRepositoriesRequest{
		Credentials: credentialsFromWire(in.GetCredentials()),
		Query:       in.GetQuery(),
		PageToken:   in.GetPageToken(),
		PageSize:    int(in.GetPageSize()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("ListRepositories"))
	}
	out := &pb.ListRepositoriesResponse{NextPageToken: r.NextPageToken}
	for _, repo := range r.Repositories {
		out.Repositories = append(out.Repositories, &pb.Repository{
			FullName: repo.FullName, CloneUrl: repo.CloneURL, WebUrl: repo.WebURL,
			DefaultBranch: repo.DefaultBranch, Private: repo.Private,
		})
	}
	return out, nil
}

func (s *gitServer) ListBranches(ctx context.Context, in *pb.ListBranchesRequest) (*pb.ListBranchesResponse, error) {
	r, err := s.impl.ListBranches(ctx, &ListBranchesRequest{Repository: in.GetRepository(), Credentials: credentialsFromWire(in.GetCredentials())})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("ListBranches"))
	}
	out := &pb.ListBranchesResponse{}
	for _, b := range r.Branches {
		out.Branches = append(out.Branches, &pb.Branch{Name: b.Name, Commit: b.Commit, Default: b.Default})
	}
	return out, nil
}

func (s *gitServer) ParseWebhook(ctx context.Context, in *pb.ParseWebhookRequest) (*pb.ParseWebhookResponse, error) {
	header := make(http.Header, len(in.GetHeaders()))
	for _, h := range in.GetHeaders() {
		for _, v := range h.GetValues() {
			header.Add(h.GetName(), v)
		}
	}
	r, err := s.impl.ParseWebhook(ctx, &ParseWebhookRequest{Header: header, Body: in.GetBody(), Secret: in.GetSecret()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("ParseWebhook"))
	}
	out := &pb.ParseWebhookResponse{Ignored: r.Ignored, IgnoredReason: r.IgnoredReason}
	if e := r.Event; e != nil {
		out.Event = &pb.WebhookEvent{
			Type: string(e.Type), Repository: e.Repository, CloneUrl: e.CloneURL, Ref: e.Ref,
			Branch: e.Branch, Tag: e.Tag, Commit: e.Commit, Before: e.Before,
			ChangedPaths: e.ChangedPaths, Sender: e.Sender, Deleted: e.Deleted,
		}
		if pr := e.PullRequest; pr != nil {
			out.Event.PullRequest = &pb.PullRequest{
				Number: pr.Number, Action: pr.Action, Title: pr.Title, HeadRef: pr.HeadRef,
				HeadCommit: pr.HeadCommit, BaseRef: pr.BaseRef, Url: pr.URL, Labels: pr.Labels,
				HeadRepository: pr.HeadRepository, HeadCloneUrl: pr.HeadCloneURL, Merged: pr.Merged, Draft: pr.Draft,
			}
		}
	}
	return out, nil
}

func (s *gitServer) SetCommitStatus(ctx context.Context, in *pb.SetCommitStatusRequest) (*pb.SetCommitStatusResponse, error) {
	_, err := s.impl.SetCommitStatus(ctx, &SetCommitStatusRequest{
		Repository: in.GetRepository(), Commit: in.GetCommit(), State: CommitState(in.GetState()),
		Context: in.GetContext(), Description: in.GetDescription(), TargetURL: in.GetTargetUrl(),
		Credentials: credentialsFromWire(in.GetCredentials()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SetCommitStatusResponse{}, nil
}

func credentialsToWire(c *Credentials) *pb.Credentials {
	if c == nil {
		return nil
	}
	out := &pb.Credentials{Username: c.Username, Password: c.Password, Token: c.Token, SshPrivateKey: c.SSHPrivateKey,
		SshKnownHosts: c.SSHKnownHosts, BaseUrl: c.BaseURL}
	if a := c.App; a != nil {
		out.App = &pb.AppCredentials{AppId: a.AppID, InstallationId: a.InstallationID, PrivateKey: a.PrivateKey}
	}
	return out
}

func credentialsFromWire(c *pb.Credentials) *Credentials {
	if c == nil {
		return nil
	}
	out := &Credentials{Username: c.GetUsername(), Password: c.GetPassword(), Token: c.GetToken(),
		SSHPrivateKey: c.GetSshPrivateKey(), SSHKnownHosts: c.GetSshKnownHosts(), BaseURL: c.GetBaseUrl()}
	if a := c.GetApp(); a != nil {
		out.App = &AppCredentials{AppID: a.GetAppId(), InstallationID: a.GetInstallationId(), PrivateKey: a.GetPrivateKey()}
	}
	return out
}

// gitClient calls a GitProvider over gRPC.
type gitClient struct {
	baseClient
	c pb.GitProviderClient
}

func (c *gitClient) Fetch(ctx context.Context, req *FetchRequest) (*FetchResponse, error) {
	if req == nil {
		return nil, errNilRequest("Fetch")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.Fetch(ctx, &pb.FetchRequest{
		Repository: req.Repository, Ref: req.Ref, Dir: req.Dir,
		Credentials: credentialsToWire(req.Credentials), Depth: int32(req.Depth),
	}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("Fetch: %w", errMissingResult)
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		switch e := ev.GetEvent().(type) {
		case *pb.FetchEvent_Log:
			if req.Log != nil {
				req.Log(logFromWire(e.Log))
			}
		case *pb.FetchEvent_Result:
			return &FetchResponse{Commit: e.Result.GetCommit(), Ref: e.Result.GetRef(), Subject: e.Result.GetSubject()}, nil
		}
	}
}

func (c *gitClient) ListRepositories(ctx context.Context, req *ListRepositoriesRequest) (*ListRepositoriesResponse, error) {
	if req == nil {
		return nil, errNilRequest("ListRepositories")
	}
	r, err := c.c.ListRepositories(ctx, &pb.ListRepositoriesRequest{
		Credentials: credentialsToWire(req.Credentials), Query: req.Query,
		PageToken: req.PageToken, PageSize: int32(req.PageSize),
	}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &ListRepositoriesResponse{NextPageToken: r.GetNextPageToken()}
	for _, repo := range r.GetRepositories() {
		out.Repositories = append(out.Repositories, Repository{
			FullName: repo.GetFullName(), CloneURL: repo.GetCloneUrl(), WebURL: repo.GetWebUrl(),
			DefaultBranch: repo.GetDefaultBranch(), Private: repo.GetPrivate(),
		})
	}
	return out, nil
}

func (c *gitClient) ListBranches(ctx context.Context, req *ListBranchesRequest) (*ListBranchesResponse, error) {
	if req == nil {
		return nil, errNilRequest("ListBranches")
	}
	r, err := c.c.ListBranches(ctx, &pb.ListBranchesRequest{Repository: req.Repository, Credentials: credentialsToWire(req.Credentials)}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &ListBranchesResponse{}
	for _, b := range r.GetBranches() {
		out.Branches = append(out.Branches, Branch{Name: b.GetName(), Commit: b.GetCommit(), Default: b.GetDefault()})
	}
	return out, nil
}

func (c *gitClient) ParseWebhook(ctx context.Context, req *ParseWebhookRequest) (*ParseWebhookResponse, error) {
	if req == nil {
		return nil, errNilRequest("ParseWebhook")
	}
	in := &pb.ParseWebhookRequest{Body: req.Body, Secret: req.Secret}
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		in.Headers = append(in.Headers, &pb.Header{Name: name, Values: req.Header[name]})
	}
	r, err := c.c.ParseWebhook(ctx, in, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &ParseWebhookResponse{Ignored: r.GetIgnored(), IgnoredReason: r.GetIgnoredReason()}
	if e := r.GetEvent(); e != nil {
		out.Event = &WebhookEvent{
			Type: WebhookType(e.GetType()), Repository: e.GetRepository(), CloneURL: e.GetCloneUrl(),
			Ref: e.GetRef(), Branch: e.GetBranch(), Tag: e.GetTag(), Commit: e.GetCommit(),
			Before: e.GetBefore(), ChangedPaths: e.GetChangedPaths(), Sender: e.GetSender(), Deleted: e.GetDeleted(),
		}
		if pr := e.GetPullRequest(); pr != nil {
			out.Event.PullRequest = &PullRequest{
				Number: pr.GetNumber(), Action: pr.GetAction(), Title: pr.GetTitle(), HeadRef: pr.GetHeadRef(),
				HeadCommit: pr.GetHeadCommit(), BaseRef: pr.GetBaseRef(), URL: pr.GetUrl(), Labels: pr.GetLabels(),
				HeadRepository: pr.GetHeadRepository(), HeadCloneURL: pr.GetHeadCloneUrl(), Merged: pr.GetMerged(), Draft: pr.GetDraft(),
			}
		}
	}
	return out, nil
}

func (c *gitClient) SetCommitStatus(ctx context.Context, req *SetCommitStatusRequest) (*SetCommitStatusResponse, error) {
	if req == nil {
		return nil, errNilRequest("SetCommitStatus")
	}
	_, err := c.c.SetCommitStatus(ctx, &pb.SetCommitStatusRequest{
		Repository: req.Repository, Commit: req.Commit, State: string(req.State), Context: req.Context,
		Description: req.Description, TargetUrl: req.TargetURL, Credentials: credentialsToWire(req.Credentials),
	}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &SetCommitStatusResponse{}, nil
}
