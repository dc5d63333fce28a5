package webhook

import (
	"context"
	"encoding/json"
	"github.com/berth-dev/berth/core/service"
	"strings"

	"github.com/distribution/reference"
)

// ImagePush is one image push announced by a registry.
type ImagePush struct {
	// Repository is the pushed repository as the registry names it
	// ("user/app" on Docker Hub, "team/app" on a Distribution registry).
	Repository string
	Tag        string
	// Digest is the manifest digest, when the registry sends it.
	Digest string
}

// dockerHubPayload is Docker Hub's webhook body.
type dockerHubPayload struct {
	PushData *struct {
		Tag string `json:"tag"`
	} `json:"push_data"`
	Repository *struct {
		RepoName string `json:"repo_name"`
	} `json:"repository"`
}

// distributionEnvelope is the Distribution registry's notification envelope.
type distributionEnvelope struct {
	Events []struct {
		Action string `json:"action"`
		Target struct {
			MediaType  string `json:"mediaType"`
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
			Digest     string `json:"digest"`
		} `json:"target"`
	} `json:"events"`
}

// ParseImagePushes reads Docker Hub's push payload or a Distribution
// registry notification envelope; only pushes are returned.
func ParseImagePushes(body []byte) ([]ImagePush, error) {
	var env distributionEnvelope
	if err := json.Unmarshal(body, &env); err == nil && env.Events != nil {
		var out []ImagePush
		for _, e := range env.Events {
			if e.Action == "push" && e.Target.Repository != "" {
				out = append(out, ImagePush{Repository: e.Target.Repository, Tag: e.Target.Tag, Digest: e.Target.Digest})
			}
		}
		return out, nil
	}
	var hub dockerHubPayload
	if err := json.Unmarshal(body, &hub); err != nil {
		return nil, &InvalidError{Msg: "body: not a Docker Hub push payload or a registry notification envelope: " + err.Error()}
	}
	if hub.PushData == nil || hub.Repository == nil || hub.Repository.RepoName == "" {
		return nil, &InvalidError{Msg: "body: expected {push_data: {tag}, repository: {repo_name}} or {events: [...]}"}
	}
	return []ImagePush{{Repository: hub.Repository.RepoName, Tag: hub.PushData.Tag}}, nil
}

// Image handles a registry push for an image-sourced application: when a
// push updates the repository and tag the application runs, it is
// redeployed, pinned to the pushed digest when the registry sent one (so
// every node runs exactly the pushed image). The application's image
// setting is not changed.
func (r *Receiver) Image(ctx context.Context, hook, token string, body []byte) (Result, error) {
	a, err := r.authenticateToken(ctx, hook, token)
	if err != nil {
		return Result{}, err
	}
	if a.SourceType != "image" {
		return Result{}, &InvalidError{Msg: "the application is built from git: image webhooks apply to image-sourced applications"}
	}
	pushes, err := ParseImagePushes(body)
	if err != nil {
		return Result{}, err
	}
	named, err := reference.ParseNormalizedNamed(a.Image)
	if err != nil {
		return Result{}, &InvalidError{Msg: "the application's image is not a valid reference: " + err.Error()}
	}
	named = reference.TagNameOnly(named)
	wantTag := ""
	if t, ok := named.(reference.Tagged); ok {
		wantTag = t.Tag()
	}
	for _, p := range pushes {
		if !sameRepository(named, p.Repository) {
			continue
		}
		tag := p.Tag
		if tag == "" {
			tag = "latest"
		}
		if tag != wantTag {
			continue
		}
		if !r.svc.CanDeploy() {
			return Result{}, ErrUnavailable
		}
		image := ""
		if strings.HasPrefix(p.Digest, "sha256:") {
			image = reference.TrimNamed(named).String() + "@" + p.Digest
		}
		d, err := r.svc.Deployments.Deploy(ctx, service.System, a, service.DeployInput{Trigger: TriggerImage, Image: image})
		if err != nil {
			return Result{}, err
		}
		return queued(d), nil
	}
	return skipped("no push of %s in the payload", reference.FamiliarString(named)), nil
}

// sameRepository compares the application's image with a pushed repository
// name, which registries give without their host ("user/app", "app").
func sameRepository(app reference.Named, pushed string) bool {
	pushed = strings.Trim(pushed, "/")
	if pushed == reference.Path(app) || pushed == reference.FamiliarName(app) {
		return true
	}
	if n, err := reference.ParseNormalizedNamed(pushed); err == nil {
		return n.Name() == app.Name()
	}
	return false
}
