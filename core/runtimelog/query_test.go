package runtimelog

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/problem"
)

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   Query
		field  string // the parameter a 422 names
	}{
		{"defaults", nil, Query{Tail: DefaultTail}, ""},
		{"everything", map[string]string{"tail": "50", "since": "10m", "until": "2026-12-08T11:55:00Z", "task": "2", "grep": "Error", "stream": "stderr"},
			Query{Tail: 50, Since: now.Add(-10 * time.Minute), Until: time.Date(2026, 12, 8, 11, 55, 0, 0, time.UTC), Task: "2", Text: "Error", Stream: "stderr"}, ""},
		{"follow with no tail", map[string]string{"follow": "true", "tail": "0"}, Query{Follow: true}, ""},
		{"task id", map[string]string{"task": "lpvoz08ihw"}, Query{Tail: DefaultTail, Task: "lpvoz08ihw"}, ""},
		{"tail 0 without follow", map[string]string{"tail": "0"}, Query{}, "tail"},
		{"tail too big", map[string]string{"tail": "10001"}, Query{}, "tail"},
		{"tail not a number", map[string]string{"tail": "many"}, Query{}, "tail"},
		{"since garbage", map[string]string{"since": "yesterday"}, Query{}, "since"},
		{"since negative", map[string]string{"since": "-5m"}, Query{}, "since"},
		{"until before since", map[string]string{"since": "5m", "until": "10m"}, Query{}, "until"},
		{"until with follow", map[string]string{"until": "5m", "follow": "true"}, Query{}, "until"},
		{"task with a slash", map[string]string{"task": "a/b"}, Query{}, "task"},
		{"task upper case", map[string]string{"task": "ABC"}, Query{}, "task"},
		{"grep too long", map[string]string{"grep": strings.Repeat("x", 501)}, Query{}, "grep"},
		{"stream", map[string]string{"stream": "both"}, Query{}, "stream"},
		{"follow", map[string]string{"follow": "yes"}, Query{}, "follow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseQuery(func(name string) string { return tc.params[name] }, now)
			if tc.field != "" {
				p := problem.Classify(err)
				if err == nil || p.Kind != problem.Invalid || p.Field != tc.field {
					t.Fatalf("error %v, want an invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q != tc.want {
				t.Errorf("query = %+v, want %+v", q, tc.want)
			}
		})
	}
}

func TestParseLine(t *testing.T) {
	at := time.Date(2026, 12, 8, 1, 35, 7, 752285154, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     Line
	}{
		{"with details", "2026-12-08T01:35:07.752285154Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world",
			Line{Time: at, Stream: "stdout", TaskID: "t1", NodeID: "n1", Text: "hello world"}},
		{"empty text", "2026-12-08T01:35:07.752285154Z com.docker.swarm.node.id=n1,com.docker.swarm.task.id=t1 ",
			Line{Time: at, Stream: "stdout", TaskID: "t1", NodeID: "n1"}},
		{"no details", "2026-12-08T01:35:07.752285154Z plain text", Line{Time: at, Stream: "stdout", Text: "plain text"}},
		{"no time", "just text", Line{Stream: "stdout", Text: "just text"}},
		{"carriage return and bad UTF-8", "2026-12-08T01:35:07.752285154Z a\xffb\r", Line{Time: at, Stream: "stdout", Text: "a\uFFFDb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseLine("stdout", []byte(tc.in)); got != tc.want {
				t.Errorf("parseLine = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNewestKeepsTheLatest(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := newNewest(3)
	// Two tasks' lines arrive task by task, not in time order.
	for _, s := range []int{1, 4, 6, 2, 3, 5, 5} {
		n.add(Line{Time: base.Add(time.Duration(s) * time.Second), Text: string(rune('0' + s))})
	}
	var got []string
	for _, l := range n.sorted() {
		got = append(got, l.Text)
	}
	if strings.Join(got, "") != "556" {
		t.Errorf("kept %v, want 5 5 6", got)
	}
}
