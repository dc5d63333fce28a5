package sdk

import (
	"fmt"
	"time"
)

// LogStream says where a log line came from.
type LogStream string

// Log streams.
const (
	// LogStdout is ordinary output of a tool the plugin runs.
	LogStdout LogStream = "stdout"
	// LogStderr is error output of a tool the plugin runs.
	LogStderr LogStream = "stderr"
	// LogSystem is a line written by the plugin itself ("step 2/5: ...").
	LogSystem LogStream = "system"
)

// LogLine is one line of output of a long call, shown to the user live.
type LogLine struct {
	Time   time.Time
	Stream LogStream
	Text   string
}

// LogFunc receives log lines as a long call produces them. The LogFunc berth
// hands a plugin is safe for concurrent use. The LogFunc a caller passes to a
// client is called from one goroutine at a time, in order.
type LogFunc func(LogLine)

// Line sends one line with the current time. It is a no-op on a nil LogFunc,
// so plugins can call it without checking.
func (f LogFunc) Line(stream LogStream, text string) {
	if f == nil {
		return
	}
	f(LogLine{Time: time.Now(), Stream: stream, Text: text})
}

// Printf sends a formatted LogSystem line.
func (f LogFunc) Printf(format string, args ...any) {
	f.Line(LogSystem, fmt.Sprintf(format, args...))
}
