// Package swarm runs each berth application as one Docker Swarm service and
// rolls changes out without losing traffic.
//
// A Deploy submits the whole desired spec (never a patch), waits until every
// replica of the new spec is running and, when the image or the spec declares
// a health check, healthy, and streams human progress lines while it waits.
// Updates are start-first by default: a new task must be up before an old one
// is stopped. When a new task fails (exit, rejected, failed health check),
// Swarm rolls the service back to its previous spec (berth asks for it when
// Swarm did not) and Deploy waits for the rollback to finish before it
// returns an error saying why, so the previous version keeps serving.
//
// Services use DNS round-robin endpoints (tasks.<service> on their overlay
// networks) unless an ingress-published port asks for Swarm's virtual IP, so
// they work on hosts without IPVS. Images are local: the registry is never
// queried.
package swarm
