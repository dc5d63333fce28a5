package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// builderServer serves the Builder service from a Builder.
type builderServer struct {
	pb.UnimplementedBuilderServer
	impl Builder
}

func (s *builderServer) Detect(ctx context.Context, in *pb.DetectRequest) (*pb.DetectResponse, error) {
	r, err := s.impl.Detect(ctx, &DetectRequest{SourceDir: in.GetSourceDir()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("Detect"))
	}
	return &pb.DetectResponse{Detected: r.Detected, Reason: r.Reason}, nil
}

func (s *builderServer) Build(in *pb.BuildRequest, stream pb.Builder_BuildServer) error {
	logs := newServerLog(func(l *pb.LogLine) error {
		return stream.Send(&pb.BuildEvent{Event: &pb.BuildEvent_Log{Log: l}})
	})
	if err := checkSettings(stream.Context(), s.impl, in.GetSettings(), true); err != nil {
		return toStatus(err)
	}
	r, err := s.impl.Build(stream.Context(), &BuildRequest{
		SourceDir:  in.GetSourceDir(),
		Settings:   in.GetSettings(),
		Image:      in.GetImage(),
		Env:        in.GetEnv(),
		BuildArgs:  in.GetBuildArgs(),
		Secrets:    in.GetSecrets(),
		DockerHost: in.GetDockerHost(),
		Log:        logs.log,
	})
	if err != nil {
		return toStatus(err)
	}
	if r == nil {
		return toStatus(errNilResponse("Build"))
	}
	return logs.sendFinal(func() error {
		return stream.Send(&pb.BuildEvent{Event: &pb.BuildEvent_Result{Result: &pb.BuildResult{Image: r.Image, Digest: r.Digest}}})
	})
}

// builderClient calls a Builder over gRPC.
type builderClient struct {
	baseClient
	c pb.BuilderClient
}

func (c *builderClient) Detect(ctx context.Context, req *DetectRequest) (*DetectResponse, error) {
	if req == nil {
		return nil, errNilRequest("Detect")
	}
	r, err := c.c.Detect(ctx, &pb.DetectRequest{SourceDir: req.SourceDir}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &DetectResponse{Detected: r.GetDetected(), Reason: r.GetReason()}, nil
}

func (c *builderClient) Build(ctx context.Context, req *BuildRequest) (*BuildResponse, error) {
	if req == nil {
		return nil, errNilRequest("Build")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.Build(ctx, &pb.BuildRequest{
		SourceDir:  req.SourceDir,
		Settings:   req.Settings,
		Image:      req.Image,
		Env:        req.Env,
		BuildArgs:  req.BuildArgs,
		Secrets:    req.Secrets,
		DockerHost: req.DockerHost,
	}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("Build: %w", errMissingResult)
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		switch e := ev.GetEvent().(type) {
		case *pb.BuildEvent_Log:
			if req.Log != nil {
				req.Log(logFromWire(e.Log))
			}
		case *pb.BuildEvent_Result:
			return &BuildResponse{Image: e.Result.GetImage(), Digest: e.Result.GetDigest()}, nil
		}
	}
}
