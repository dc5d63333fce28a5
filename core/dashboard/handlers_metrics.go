package dashboard

import "time"

// MetricsSource is the running metrics sampler: the interval the charts
// refresh at.
type MetricsSource interface {
	Interval() time.Duration
}
