package dashboard

import (
	"github.com/berth-dev/berth/core/store"
)

// Application states shown at a glance, derived from the latest deployment.
const (
	stateNone      = "none"
	stateDeploying = "deploying"
	stateRunning   = "running"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// appState says what an application is doing, from its latest deployment
// (nil when it was never deployed).
func appState(latest *store.Deployment) string {
	if latest == nil {
		return stateNone
	}
	switch latest.Status {
	case store.DeploymentQueued, store.DeploymentRunning:
		return stateDeploying
	case store.DeploymentSucceeded:
		return stateRunning
	case store.DeploymentFailed:
		return stateFailed
	case store.DeploymentCancelled:
		return stateCancelled
	}
	return stateNone
}

// statusText is the label of an application state or a deployment status.
func statusText(s string) string {
	switch s {
	case stateNone:
		return "not deployed"
	case "":
		return "unknown"
	}
	return s
}

// httpsText describes a domain's HTTPS mode.
func httpsText(d store.Domain) string {
	var s string
	switch d.HTTPS {
	case "letsencrypt":
		s = "HTTPS (Let's Encrypt)"
	case "custom":
		s = "HTTPS (custom certificate)"
	default:
		return "HTTP only"
	}
	if d.RedirectHTTPS {
		s += ", HTTP redirects"
	}
	return s
}
