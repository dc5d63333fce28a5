package runtimelog

import (
	"container/heap"
	"sort"
)

// newest keeps the latest lines added, at most max of them and at most
// maxAnswerBytes of text: a min-heap on time whose oldest line goes first.
type newest struct {
	max   int
	bytes int
	seq   int
	lines lineHeap
}

func newNewest(max int) *newest { return &newest{max: max} }

// add keeps l if it is among the latest.
func (n *newest) add(l Line) {
	n.seq++
	heap.Push(&n.lines, seqLine{l, n.seq})
	n.bytes += len(l.Text)
	for n.lines.Len() > n.max || n.bytes > maxAnswerBytes && n.lines.Len() > 1 {
		old := heap.Pop(&n.lines).(seqLine)
		n.bytes -= len(old.Text)
	}
}

// sorted returns the lines kept, oldest first (lines of the same time in
// the order they were added).
func (n *newest) sorted() []Line {
	s := append(lineHeap(nil), n.lines...)
	sort.Slice(s, func(i, j int) bool { return s.less(i, j) })
	out := make([]Line, len(s))
	for i := range s {
		out[i] = s[i].Line
	}
	return out
}

type seqLine struct {
	Line
	seq int
}

type lineHeap []seqLine

func (h lineHeap) Len() int { return len(h) }
func (h lineHeap) less(i, j int) bool {
	if h[i].Time.Equal(h[j].Time) {
		return h[i].seq < h[j].seq
	}
	return h[i].Time.Before(h[j].Time)
}
func (h lineHeap) Less(i, j int) bool { return h.less(i, j) }
func (h lineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lineHeap) Push(x any)        { *h = append(*h, x.(seqLine)) }
func (h *lineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
