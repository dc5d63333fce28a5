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
	}
	if d := e.Deploy; d != nil {
		out.Deploy = &pb.DeployDetails{
			DeploymentId: d.DeploymentID, Commit: d.Commit, Branch: d.Branch, Image: d.Image,
			DurationMs: d.Duration.Milliseconds(), Error: d.Error, Trigger: d.Trigger,
		}
	}
	if d := e.Backup; d != nil {
		out.Backup = &pb.BackupDetails{
			BackupId: d.BackupID, Database: d.Database, Target: d.Target, Key: d.Key,
			SizeBytes: d.SizeBytes, DurationMs: d.Duration.Milliseconds(), Error: d.Error,
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
		out.Restart = &pb.RestartDetails{Version: d.Version, Reason: d.Reason}
	}
	return out
}

func eventFromWire(e *pb.Event) Event {
	out := Event{
		ID: e.GetId(), Type: EventType(e.GetType()), Time: timeFromWire(e.GetTimeUnixNano()), Severity: Severity(e.GetSeverity()),
		Title: e.GetTitle(), Message: e.GetMessage(), Project: e.GetProject(), App: e.GetApp(), URL: e.GetUrl(), Fields: e.GetFields(),
	}
	if d := e.GetDeploy(); d != nil {
		out.Deploy = &DeployDetails{
			DeploymentID: d.GetDeploymentId(), Commit: d.GetCommit(), Branch: d.GetBranch(), Image: d.GetImage(),
			Duration: time.Duration(d.GetDurationMs()) * time.Millisecond, Error: d.GetError(), Trigger: d.GetTrigger(),
		}
	}
	if d := e.GetBackup(); d != nil {
		out.Backup = &BackupDetails{
			BackupID: d.GetBackupId(), Database: d.GetDatabase(), Target: d.GetTarget(), Key: d.GetKey(),
			SizeBytes: d.GetSizeBytes(), Duration: time.Duration(d.GetDurationMs()) * time.Millisecond, Error: d.GetError(),
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
		out.Restart = &RestartDetails{Version: d.GetVersion(), Reason: d.GetReason()}
	}
	return out
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
