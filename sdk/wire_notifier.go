package sdk

import (
	"context"
	"time"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// notifierServer serves the Notifier service from a Notifier.
type notifierServer struct {
	pb.UnimplementedNotifierServer
	impl Notifier
}

func (s *notifierServer) Send(ctx context.Context, in *pb.SendRequest) (*pb.SendResponse, error) {
	r, err := s.impl.Send(ctx, &SendRequest{Event: eventFromWire(in.GetEvent())})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("Send"))
	}
	return &pb.SendResponse{MessageId: r.MessageID}, nil
}

func (s *notifierServer) TestConnection(ctx context.Context, _ *pb.TestConnectionRequest) (*pb.TestConnectionResponse, error) {
	r, err := s.impl.TestConnection(ctx, &TestConnectionRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("TestConnection"))
	}
	return &pb.TestConnectionResponse{Message: r.Message}, nil
}

func eventToWire(e Event) *pb.Event {
	out := &pb.Event{
		Id: e.ID, Type: string(e.Type), TimeUnixNano: timeToWire(e.Time), Severity: string(e.Severity),
		Title: e.Title, Message: e.Message, Project: e.Project, App: e.App, Url: e.URL, Fields: e.Fields,
		OrganizationId: e.OrganizationID, ProjectId: e.ProjectID, EnvironmentId: e.EnvironmentID, Environment: e.Environment,
	}
	if d := e.Deploy; d != nil {
		out.Deploy = &pb.DeployDetails{
			DeploymentId: d.DeploymentID, Commit: d.Commit, Branch: d.Branch, Image: d.Image,
			DurationMs: d.Duration.Milliseconds(), Error: d.Error, Trigger: d.Trigger,
			Builder: d.Builder, FailedStep: d.FailedStep, RollbackFrom: d.RollbackFrom, RollbackTo: d.RollbackTo,
		}
	}
	if d := e.Backup; d != nil {
		out.Backup = &pb.BackupDetails{
			BackupId: d.BackupID, Database: d.Database, Target: d.Target, Key: d.Key,
			SizeBytes: d.SizeBytes, DurationMs: d.Duration.Milliseconds(), Error: d.Error,
			Kind: d.Kind, App: d.App, Schedule: d.Schedule, MissedAtUnixNano: timeToWire(d.MissedAt), MissedRuns: int32(d.MissedRuns),
		}
	}
	if d := e.Threshold; d != nil {
		out.Threshold = &pb.ThresholdDetails{Resource: d.Resource, Metric: d.Metric, Value: d.Value, Limit: d.Limit, Unit: d.Unit}
	}
	if d := e.Cleanup; d != nil {
		out.Cleanup = &pb.CleanupDetails{
			ReclaimedBytes: d.ReclaimedBytes, ImagesRemoved: int32(d.ImagesRemoved),
			ContainersRemoved: int32(d.ContainersRemoved), VolumesRemoved: int32(d.VolumesRemoved),
		}
	}
	if d := e.Restart; d != nil {
		out.Restart = &pb.RestartDetails{Version: d.Version, Reason: d.Reason, PreviousShutdown: d.PreviousShutdown}
	}
	if d := e.Preview; d != nil {
		out.Preview = &pb.PreviewDetails{PullRequest: int64(d.PullRequest), PullRequestUrl: d.PullRequestURL, Branch: d.Branch, Domain: d.Domain}
	}
	if d := e.Restore; d != nil {
		out.Restore = &pb.RestoreDetails{RestoreId: d.RestoreID, BackupId: d.BackupID, Database: d.Database, App: d.App,
			Target: d.Target, Error: d.Error, DurationMs: d.Duration.Milliseconds()}
	}
	if d := e.Certificate; d != nil {
		out.Certificate = &pb.CertificateDetails{Domains: d.Domains, NotAfterUnixNano: timeToWire(d.NotAfter), DaysLeft: int32(d.DaysLeft),
			Issuer: d.Issuer, Resolver: d.Resolver, Error: d.Error}
	}
	if d := e.Plugin; d != nil {
		out.Plugin = &pb.PluginDetails{PluginId: d.PluginID, Version: d.Version, Restarts: int32(d.Restarts), LastError: d.LastError}
	}
	if d := e.Job; d != nil {
		out.Job = &pb.JobDetails{JobId: d.JobID, JobName: d.JobName, RunId: d.RunID, ExitCode: int32(d.ExitCode), Error: d.Error}
	}
	return out
}

func eventFromWire(e *pb.Event) Event {
	out := Event{
		ID: e.GetId(), Type: EventType(e.GetType()), Time: timeFromWire(e.GetTimeUnixNano()), Severity: Severity(e.GetSeverity()),
		Title: e.GetTitle(), Message: e.GetMessage(), Project: e.GetProject(), App: e.GetApp(), URL: e.GetUrl(), Fields: e.GetFields(),
		OrganizationID: e.GetOrganizationId(), ProjectID: e.GetProjectId(), EnvironmentID: e.GetEnvironmentId(), Environment: e.GetEnvironment(),
	}
	if d := e.GetDeploy(); d != nil {
		out.Deploy = &DeployDetails{
			DeploymentID: d.GetDeploymentId(), Commit: d.GetCommit(), Branch: d.GetBranch(), Image: d.GetImage(),
			Duration: msFromWire(d.GetDurationMs()), Error: d.GetError(), Trigger: d.GetTrigger(),
			Builder: d.GetBuilder(), FailedStep: d.GetFailedStep(), RollbackFrom: d.GetRollbackFrom(), RollbackTo: d.GetRollbackTo(),
		}
	}
	if d := e.GetBackup(); d != nil {
		out.Backup = &BackupDetails{
			BackupID: d.GetBackupId(), Database: d.GetDatabase(), Target: d.GetTarget(), Key: d.GetKey(),
			SizeBytes: d.GetSizeBytes(), Duration: msFromWire(d.GetDurationMs()), Error: d.GetError(),
			Kind: d.GetKind(), App: d.GetApp(), Schedule: d.GetSchedule(), MissedAt: timeFromWire(d.GetMissedAtUnixNano()),
			MissedRuns: int(d.GetMissedRuns()),
		}
	}
	if d := e.GetThreshold(); d != nil {
		out.Threshold = &ThresholdDetails{Resource: d.GetResource(), Metric: d.GetMetric(), Value: d.GetValue(), Limit: d.GetLimit(), Unit: d.GetUnit()}
	}
	if d := e.GetCleanup(); d != nil {
		out.Cleanup = &CleanupDetails{
			ReclaimedBytes: d.GetReclaimedBytes(), ImagesRemoved: int(d.GetImagesRemoved()),
			ContainersRemoved: int(d.GetContainersRemoved()), VolumesRemoved: int(d.GetVolumesRemoved()),
		}
	}
	if d := e.GetRestart(); d != nil {
		out.Restart = &RestartDetails{Version: d.GetVersion(), Reason: d.GetReason(), PreviousShutdown: d.GetPreviousShutdown()}
	}
	if d := e.GetPreview(); d != nil {
		out.Preview = &PreviewDetails{PullRequest: int(d.GetPullRequest()), PullRequestURL: d.GetPullRequestUrl(), Branch: d.GetBranch(), Domain: d.GetDomain()}
	}
	if d := e.GetRestore(); d != nil {
		out.Restore = &RestoreDetails{RestoreID: d.GetRestoreId(), BackupID: d.GetBackupId(), Database: d.GetDatabase(), App: d.GetApp(),
			Target: d.GetTarget(), Error: d.GetError(), Duration: msFromWire(d.GetDurationMs())}
	}
	if d := e.GetCertificate(); d != nil {
		out.Certificate = &CertificateDetails{Domains: d.GetDomains(), NotAfter: timeFromWire(d.GetNotAfterUnixNano()), DaysLeft: int(d.GetDaysLeft()),
			Issuer: d.GetIssuer(), Resolver: d.GetResolver(), Error: d.GetError()}
	}
	if d := e.GetPlugin(); d != nil {
		out.Plugin = &PluginDetails{PluginID: d.GetPluginId(), Version: d.GetVersion(), Restarts: int(d.GetRestarts()), LastError: d.GetLastError()}
	}
	if d := e.GetJob(); d != nil {
		out.Job = &JobDetails{JobID: d.GetJobId(), JobName: d.GetJobName(), RunID: d.GetRunId(), ExitCode: int(d.GetExitCode()), Error: d.GetError()}
	}
	return out
}

// msFromWire turns wire milliseconds into a duration.
func msFromWire(ms int64) time.Duration {
	return time.Duration(ms) * time.Millisecond
}

// notifierClient calls a Notifier over gRPC.
type notifierClient struct {
	baseClient
	c pb.NotifierClient
}

func (c *notifierClient) Send(ctx context.Context, req *SendRequest) (*SendResponse, error) {
	if req == nil {
		return nil, errNilRequest("Send")
	}
	r, err := c.c.Send(ctx, &pb.SendRequest{Event: eventToWire(req.Event)}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &SendResponse{MessageID: r.GetMessageId()}, nil
}

func (c *notifierClient) TestConnection(ctx context.Context, _ *TestConnectionRequest) (*TestConnectionResponse, error) {
	r, err := c.c.TestConnection(ctx, &pb.TestConnectionRequest{}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &TestConnectionResponse{Message: r.GetMessage()}, nil
}
