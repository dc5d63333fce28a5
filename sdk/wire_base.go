package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// maxMessageSize bounds one gRPC message (webhook bodies, repository lists).
const maxMessageSize = 64 << 20

// chunkSize is the size of the data chunks of streamed objects.
const chunkSize = 256 << 10

// callOptions are passed to every client call.
var callOptions = []grpc.CallOption{grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)}

// errNilResponse is returned when a plugin method returns neither a response
// nor an error.
func errNilResponse(method string) error {
	return fmt.Errorf("%s returned a nil response and no error", method)
}

// errNilRequest is returned by clients called with a nil request.
func errNilRequest(method string) error {
	return fmt.Errorf("%s: nil request: %w", method, ErrInvalidArgument)
}

// baseServer serves the Plugin service from any plugin.
type baseServer struct {
	pb.UnimplementedPluginServer
	impl Plugin
}

func (s *baseServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	r, err := s.impl.Info(ctx, &InfoRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("Info"))
	}
	r = completeInfo(r)
	out := &pb.InfoResponse{Id: r.ID, Version: r.Version, Description: r.Description}
	for _, v := range r.ProtocolVersions {
		out.ProtocolVersions = append(out.ProtocolVersions, int32(v))
	}
	for _, c := range r.Capabilities {
		out.Capabilities = append(out.Capabilities, string(c))
	}
	return out, nil
}

func (s *baseServer) ConfigSchema(ctx context.Context, _ *pb.ConfigSchemaRequest) (*pb.ConfigSchemaResponse, error) {
	r, err := s.impl.ConfigSchema(ctx, &ConfigSchemaRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("ConfigSchema"))
	}
	return &pb.ConfigSchemaResponse{SettingsSchema: r.Settings, AppSchema: r.App}, nil
}

func (s *baseServer) Configure(ctx context.Context, in *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	if err := checkSettings(ctx, s.impl, in.GetSettings(), false); err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.impl.Configure(ctx, &ConfigureRequest{Settings: in.GetSettings()}); err != nil {
		return nil, toStatus(err)
	}
	return &pb.ConfigureResponse{}, nil
}

// completeInfo returns r with the SDK's protocol versions filled in when the
// plugin left them empty.
func completeInfo(r *InfoResponse) *InfoResponse {
	if len(r.ProtocolVersions) > 0 {
		return r
	}
	c := *r
	c.ProtocolVersions = append([]int(nil), ProtocolVersions...)
	return &c
}

// baseClient calls the Plugin service.
type baseClient struct {
	base pb.PluginClient
}

func (c baseClient) Info(ctx context.Context, _ *InfoRequest) (*InfoResponse, error) {
	r, err := c.base.Info(ctx, &pb.InfoRequest{}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &InfoResponse{ID: r.GetId(), Version: r.GetVersion(), Description: r.GetDescription()}
	for _, v := range r.GetProtocolVersions() {
		out.ProtocolVersions = append(out.ProtocolVersions, int(v))
	}
	for _, cap := range r.GetCapabilities() {
		out.Capabilities = append(out.Capabilities, Capability(cap))
	}
	return out, nil
}

func (c baseClient) ConfigSchema(ctx context.Context, _ *ConfigSchemaRequest) (*ConfigSchemaResponse, error) {
	r, err := c.base.ConfigSchema(ctx, &pb.ConfigSchemaRequest{}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &ConfigSchemaResponse{Settings: r.GetSettingsSchema(), App: r.GetAppSchema()}, nil
}

func (c baseClient) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	if req == nil {
		return nil, errNilRequest("Configure")
	}
	if _, err := c.base.Configure(ctx, &pb.ConfigureRequest{Settings: req.Settings}, callOptions...); err != nil {
		return nil, fromStatus(err)
	}
	return &ConfigureResponse{}, nil
}

func logToWire(l LogLine) *pb.LogLine {
	var ns int64
	if !l.Time.IsZero() {
		ns = l.Time.UnixNano()
	}
	return &pb.LogLine{TimeUnixNano: ns, Stream: string(l.Stream), Text: l.Text}
}

func logFromWire(l *pb.LogLine) LogLine {
	return LogLine{Time: timeFromWire(l.GetTimeUnixNano()), Stream: LogStream(l.GetStream()), Text: l.GetText()}
}

func timeToWire(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromWire(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// serverLog returns a LogFunc that sends lines on a server stream. It is
// safe for concurrent use; after a failed send it drops lines, and the
// failure is reported by err.
type serverLog struct {
	send func(*pb.LogLine) error
	mu   sync.Mutex
	err  error
}

func newServerLog(send func(*pb.LogLine) error) *serverLog {
	return &serverLog{send: send}
}

func (s *serverLog) log(l LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = s.send(logToWire(l))
}

// sendFinal sends the final message of the stream under the same lock, so
// it never interleaves with a log line sent from another goroutine.
func (s *serverLog) sendFinal(send func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return send()
}

// errMissingResult is returned when a stream ended without its result.
var errMissingResult = errors.New("the plugin ended the stream without a result")

// checkSettings validates settings against the plugin's own settings
// schema (app false) or app schema (app true) with ValidateSettings, so a
// plugin sees only settings its schema accepts.
func checkSettings(ctx context.Context, impl Plugin, settings []byte, app bool) error {
	schema, err := impl.ConfigSchema(ctx, &ConfigSchemaRequest{})
	if err != nil || schema == nil {
		return nil // a plugin without schemas validates on its own
	}
	doc := schema.Settings
	if app {
		doc = schema.App
	}
	return ValidateSettings(doc, settings)
}
