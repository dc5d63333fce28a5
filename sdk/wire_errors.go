package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// errorDomain marks gRPC statuses produced from a plugin's own error, as
// opposed to transport failures.
const errorDomain = "plugin.berth.dev"

// wireErrors maps the sentinel errors to gRPC codes and stable reasons.
// Order matters: the first match wins when an error wraps several.
var wireErrors = []struct {
	err    error
	code   codes.Code
	reason string
}{
	{context.Canceled, codes.Canceled, "CANCELED"},
	{context.DeadlineExceeded, codes.DeadlineExceeded, "DEADLINE_EXCEEDED"},
	{ErrUnimplemented, codes.Unimplemented, "UNIMPLEMENTED"},
	{ErrNotFound, codes.NotFound, "NOT_FOUND"},
	{ErrUnauthenticated, codes.Unauthenticated, "UNAUTHENTICATED"},
	{ErrInvalidArgument, codes.InvalidArgument, "INVALID_ARGUMENT"},
	{ErrNotConfigured, codes.FailedPrecondition, "NOT_CONFIGURED"},
	{ErrUnavailable, codes.Unavailable, "UNAVAILABLE"},
}

// toStatus turns a plugin's error into a gRPC status error that fromStatus
// turns back into an equivalent error on the host.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code, reason := codes.Unknown, "UNKNOWN"
	for _, w := range wireErrors {
		if errors.Is(err, w.err) {
			code, reason = w.code, w.reason
			break
		}
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}}
	var cfg *ConfigError
	if errors.As(err, &cfg) {
		bad := &errdetails.BadRequest{}
		for _, f := range cfg.Fields {
			bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Message})
		}
		details = append(details, bad)
	}
	st, derr := status.New(code, err.Error()).WithDetails(details...)
	if derr != nil {
		return status.Error(code, err.Error())
	}
	return st.Err()
}

// remoteError is a plugin's error as seen by the host: the plugin's message,
// matching the sentinel the plugin wrapped.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// fromStatus turns an error returned by a gRPC client call back into the
// plugin's error, or into an ErrConnection or context error when the plugin's
// code never answered.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%w: %w", ErrConnection, err)
	}
	var info *errdetails.ErrorInfo
	var bad *errdetails.BadRequest
	for _, d := range st.Details() {
		switch v := d.(type) {
		case *errdetails.ErrorInfo:
			info = v
		case *errdetails.BadRequest:
			bad = v
		}
	}
	if info != nil && info.GetDomain() == errorDomain {
		if bad != nil && len(bad.GetFieldViolations()) > 0 {
			cfg := &ConfigError{}
			for _, v := range bad.GetFieldViolations() {
				cfg.Add(v.GetField(), v.GetDescription())
			}
			return cfg
		}
		var kind error
		for _, w := range wireErrors {
			if w.reason == info.GetReason() {
				kind = w.err
				break
			}
		}
		return &remoteError{msg: st.Message(), kind: kind}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	case codes.Unimplemented:
		// The binary has no such method: built with an older SDK.
		return fmt.Errorf("%s: %w", st.Message(), ErrUnimplemented)
	default:
		return fmt.Errorf("%w: %w", ErrConnection, err)
	}
}

// recoverUnary turns a panic in a plugin's method into an error, so one bad
// request does not take the plugin process down.
func recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			pluginLogger.Error("panic in plugin method", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = toStatus(fmt.Errorf("plugin panicked in %s: %v", info.FullMethod, r))
		}
	}()
	return handler(ctx, req)
}

// recoverStream is recoverUnary for streaming methods.
func recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			pluginLogger.Error("panic in plugin method", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = toStatus(fmt.Errorf("plugin panicked in %s: %v", info.FullMethod, r))
		}
	}()
	return handler(srv, ss)
}
