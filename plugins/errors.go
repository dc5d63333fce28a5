package plugins

import (
	"errors"
	"strings"
)

// Errors of the plugin host. Errors returned by Host and the typed clients
// are *Error values wrapping one of these, or the plugin's own error (which
// matches the sdk's sentinel errors such as sdk.ErrNotFound).
var (
	// ErrUnknownPlugin: no index lists a plugin with that id.
	ErrUnknownPlugin = errors.New("no such plugin in the plugin index")
	// ErrWrongKind: the plugin is of another kind than the accessor's.
	ErrWrongKind = errors.New("plugin is of another kind")
	// ErrChecksumMismatch: the binary is not the one the index recorded.
	ErrChecksumMismatch = errors.New("binary does not match the sha256 recorded in the plugin index")
	// ErrUnsupportedProtocol: the plugin and berth share no protocol version.
	ErrUnsupportedProtocol = errors.New("plugin speaks no protocol version this berth supports")
	// ErrStart: the plugin process could not be started or did not answer.
	ErrStart = errors.New("plugin failed to start")
	// ErrCrashed: the plugin process died during the call.
	ErrCrashed = errors.New("plugin process crashed")
	// ErrClosed: the Host was closed.
	ErrClosed = errors.New("plugin host is closed")
)

// Error is an error of a plugin call: which plugin, which operation, and
// what went wrong.
type Error struct {
	// Plugin is the plugin's id, "notifier.slack".
	Plugin string
	// Op is the operation: a method name ("Build") or "start".
	Op string
	// Err is the cause.
	Err error
}

// Error reads "plugin notifier.slack: Send: <cause>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("plugin ")
	b.WriteString(e.Plugin)
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// wrapErr wraps err in an *Error for plugin id and op, unless it already is
// one for that plugin.
func wrapErr(id, op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) && pe.Plugin == id {
		return err
	}
	return &Error{Plugin: id, Op: op, Err: err}
}
