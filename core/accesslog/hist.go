package accesslog

import "time"

// Bounds are the upper bounds, in milliseconds, of the latency histogram's
// buckets; a last bucket holds everything slower. They never change: the
// stored histograms are added element by element.
var Bounds = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000}

// Buckets is the number of buckets of a histogram: len(Bounds)+1.
const Buckets = 15

// bucketOf returns the bucket of a duration.
func bucketOf(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	for i, b := range Bounds {
		if ms <= b {
			return i
		}
	}
	return len(Bounds)
}

// Merge adds src into dst, which must have Buckets elements; a shorter src
// (a row stored with fewer buckets) adds what it has.
func Merge(dst, src []int64) {
	for i := range min(len(dst), len(src)) {
		dst[i] += src[i]
	}
}

// Quantile estimates the q-quantile (0 < q < 1) of the latencies counted in
// hist, in milliseconds, interpolating linearly inside the bucket holding
// it; in the unbounded last bucket it answers the last bound. No requests
// answers 0.
func Quantile(hist []int64, q float64) float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum float64
	for i, n := range hist {
		if n == 0 {
			continue
		}
		if cum+float64(n) >= rank {
			lower := 0.0
			if i > 0 {
				lower = Bounds[i-1]
			}
			if i >= len(Bounds) {
				return lower
			}
			return lower + (Bounds[i]-lower)*(rank-cum)/float64(n)
		}
		cum += float64(n)
	}
	return Bounds[len(Bounds)-1]
}
