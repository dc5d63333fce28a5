package swarm

// Labels berth puts on the objects it creates.
const (
	// LabelManaged marks services, configs, networks and volumes berth owns.
	LabelManaged = "dev.berth.managed"
	// LabelAppID is the application's id.
	LabelAppID = "dev.berth.app-id"
	// LabelDeploymentID is the id of the deployment that last applied the
	// service spec.
	LabelDeploymentID = "dev.berth.deployment-id"
	// LabelService names the service a config or container belongs to.
	LabelService = "dev.berth.service"
	// LabelSpecHash is a hash of the task template, on every task's
	// container: tasks carrying the current hash run the current spec.
	LabelSpecHash = "dev.berth.spec-hash"
)

// serviceLabels are the service's labels: the caller's, then berth's.
func serviceLabels(s ServiceSpec) map[string]string {
	out := make(map[string]string, len(s.Labels)+3)
	for k, v := range s.Labels {
		out[k] = v
	}
	out[LabelManaged] = "true"
	setIf(out, LabelAppID, s.AppID)
	setIf(out, LabelDeploymentID, s.DeploymentID)
	return out
}

// containerLabels are put on each task's container (the spec hash is added
// once the rest of the template is known).
func containerLabels(s ServiceSpec) map[string]string {
	out := map[string]string{LabelManaged: "true", LabelService: s.Name}
	setIf(out, LabelAppID, s.AppID)
	return out
}

// volumeLabels are given to named volumes Swarm creates for the service.
func volumeLabels(s ServiceSpec) map[string]string {
	out := map[string]string{LabelManaged: "true"}
	setIf(out, LabelAppID, s.AppID)
	return out
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}
