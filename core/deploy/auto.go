package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

// BuildTypeAuto is the build type that chooses the builder at each
// deployment (docs/builders/auto.md).
const BuildTypeAuto = "auto"

// DefaultBuilder is the default zero-config builder of an instance whose
// administrators did not choose one (store.InstanceSettings.DefaultBuilder
// starts with it too).
const DefaultBuilder = "railpack"

// ZeroConfigOrder is the order in which auto asks the zero-config
// builders after the Dockerfile builder and the instance's default one:
// Railpack (Nixpacks' successor), Nixpacks, the Cloud Native Buildpacks of
// Heroku then Paketo, and last the static site builder, which would also
// take apps that keep an index.html next to the sources they build.
var ZeroConfigOrder = []string{"railpack", "nixpacks", "heroku", "paketo", "static"}

// AutoOrder lists the builders auto asks, in order, each once: the
// Dockerfile builder, the instance's default builder (DefaultBuilder when
// empty), then ZeroConfigOrder.
func AutoOrder(defaultBuilder string) []string {
	if defaultBuilder == "" {
		defaultBuilder = DefaultBuilder
	}
	order := []string{"dockerfile"}
	for _, name := range append([]string{defaultBuilder}, ZeroConfigOrder...) {
		if name != BuildTypeAuto && !contains(order, name) {
			order = append(order, name)
		}
	}
	return order
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// detection is what one builder answered to auto.
type detection struct {
	// id is the builder plugin id, builder.<name>.
	id string
	// installed is false when no plugin has that id (or it cannot start).
	installed bool
	detected  bool
	reason    string
}

// String renders the answer for the deployment log.
func (d detection) String() string { return d.id + ": " + d.reason }

// detector asks the builder plugin id whether it can build the checkout.
type detector func(ctx context.Context, id string) detection

// choose asks each builder of order in turn and returns the index of the
// first that detects the checkout in what it collected (every answer up to
// and including it), or -1 when none does. A cancelled context stops it.
func choose(ctx context.Context, order []string, ask detector) (int, []detection, error) {
	var answers []detection
	for _, name := range order {
		if err := ctx.Err(); err != nil {
			return -1, answers, err
		}
		d := ask(ctx, "builder."+name)
		answers = append(answers, d)
		if d.detected {
			return len(answers) - 1, answers, nil
		}
	}
	return -1, answers, ctx.Err()
}

// autoDecision is the log line and recorded reason of a choice, and the
// error when nothing was chosen.
func autoDecision(chosen int, answers []detection) (line, reason string, err error) {
	var others []string
	for i, d := range answers {
		if i != chosen {
			others = append(others, d.String())
		}
	}
	if chosen < 0 {
		return "", "", fmt.Errorf("auto: no builder can build this repository (add a Dockerfile or choose a build type): %s", strings.Join(others, "; "))
	}
	c := answers[chosen]
	line = "auto: chose " + c.id + " — " + c.reason
	if len(others) > 0 {
		line += "; " + strings.Join(others, "; ")
	}
	return line, c.reason, nil
}

// askPlugin is the detector of the pipeline's builder plugins.
func (p *Pipeline) askPlugin(dir string) detector {
	return func(ctx context.Context, id string) detection {
		d := detection{id: id}
		b, err := p.plugins.Builder(ctx, id)
		switch {
		case errors.Is(err, plugins.ErrUnknownPlugin):
			d.reason = "not installed"
			return d
		case err != nil:
			d.reason = "unavailable: " + err.Error()
			return d
		}
		d.installed = true
		r, err := b.Detect(ctx, &sdk.DetectRequest{SourceDir: dir})
		if err != nil {
			d.reason = "detect failed: " + err.Error()
			return d
		}
		d.detected, d.reason = r.Detected, r.Reason
		if d.reason == "" {
			d.reason = map[bool]string{true: "detected", false: "not detected"}[d.detected]
		}
		return d
	}
}

// chooseBuilder picks the builder of an auto deployment and logs why.
func (p *Pipeline) chooseBuilder(ctx context.Context, r *run) (id, reason string, err error) {
	defaultBuilder := ""
	if s, err := p.store.InstanceSettings(ctx); err == nil {
		defaultBuilder = s.DefaultBuilder
	} else {
		r.w.Info("warning: reading the instance's default builder failed, using " + DefaultBuilder + ": " + err.Error())
	}
	order := AutoOrder(defaultBuilder)
	r.w.Info("auto: asking " + strings.Join(order, ", ") + " in turn")
	chosen, answers, err := choose(ctx, order, p.askPlugin(r.dir))
	if err != nil {
		return "", "", err
	}
	line, reason, err := autoDecision(chosen, answers)
	if err != nil {
		return "", "", err
	}
	r.w.Info(line)
	return answers[chosen].id, reason, nil
}
