package runtimelog

import (
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/problem"
)

// Tail limits: the default and the most lines one answer holds.
const (
	DefaultTail = 200
	MaxTail     = 10000
)

// Streams a line comes from.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// maxTextLen is the longest filter text accepted.
const maxTextLen = 500

// Query says which lines to read.
type Query struct {
	// Tail is how many of the latest matching lines to return (1 to
	// MaxTail); with Follow, how many come before the live ones (0: none).
	Tail int
	// Since and Until bound the lines' times (zero: unbounded).
	Since, Until time.Time
	// Task keeps the lines of the tasks whose id starts with it, or, when it
	// is a number, of the tasks in that replica slot.
	Task string
	// Text keeps the lines containing it, ignoring case.
	Text string
	// Stream keeps the lines of one stream: Stdout or Stderr (empty: both).
	Stream string
	// Follow keeps reading new lines until the reader's context ends.
	Follow bool
}

// ParseQuery reads a query from its parameters (tail, since, until, task,
// grep, stream, follow), as get returns them ("" when absent). Relative
// times ("10m", "1h30m") count back from now. A bad parameter is a
// problem.InvalidField naming it.
func ParseQuery(get func(name string) string, now time.Time) (Query, error) {
	q := Query{Tail: DefaultTail}
	if v := get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxTail {
			return q, problem.InvalidField("tail", "must be a whole number from 0 to %d", MaxTail)
		}
		q.Tail = n
	}
	var err error
	if q.Since, err = parseTime("since", get("since"), now); err != nil {
		return q, err
	}
	if q.Until, err = parseTime("until", get("until"), now); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, problem.InvalidField("until", "must be later than since")
	}
	q.Task = strings.TrimSpace(get("task"))
	if len(q.Task) > 64 || strings.ContainsFunc(q.Task, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		return q, problem.InvalidField("task", "must be a task id (or its beginning) or a replica slot number")
	}
	q.Text = get("grep")
	if len(q.Text) > maxTextLen {
		return q, problem.InvalidField("grep", "must be at most %d characters", maxTextLen)
	}
	switch q.Stream = get("stream"); q.Stream {
	case "", Stdout, Stderr:
	default:
		return q, problem.InvalidField("stream", "must be stdout or stderr")
	}
	switch get("follow") {
	case "", "false", "0":
	case "true", "1":
		q.Follow = true
	default:
		return q, problem.InvalidField("follow", "must be true or false")
	}
	if q.Follow && !q.Until.IsZero() {
		return q, problem.InvalidField("until", "cannot be used with follow")
	}
	if !q.Follow && q.Tail == 0 {
		return q, problem.InvalidField("tail", "must be at least 1 unless following")
	}
	return q, nil
}

// parseTime reads an RFC 3339 time or a positive duration back from now.
func parseTime(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, problem.InvalidField(name, "must be an RFC 3339 time (2006-01-02T15:04:05Z) or a duration back from now (10m, 2h)")
}

// slot returns the replica slot Task names, or 0 when it names a task id.
func (q Query) slot() int {
	if q.Task == "" || len(q.Task) > 6 {
		return 0
	}
	n, err := strconv.Atoi(q.Task)
	if err != nil {
		return 0
	}
	return n
}

// filter returns whether l matches q's task, text and time bounds (the
// stream is chosen by Docker).
func (q Query) filter() func(l *Line) bool {
	slot := q.slot()
	text := strings.ToLower(q.Text)
	return func(l *Line) bool {
		if !q.Since.IsZero() && l.Time.Before(q.Since) {
			return false
		}
		if !q.Until.IsZero() && l.Time.After(q.Until) {
			return false
		}
		if q.Task != "" {
			if slot > 0 {
				if l.Slot != slot {
					return false
				}
			} else if !strings.HasPrefix(l.TaskID, q.Task) {
				return false
			}
		}
		return text == "" || strings.Contains(strings.ToLower(l.Text), text)
	}
}
