package railpack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/opencontainers/go-digest"
	"github.com/railwayapp/railpack/buildkit"
	"github.com/railwayapp/railpack/core/plan"
	"github.com/tonistiigi/fsutil"
)

// solve converts p to LLB, solves it on BuildKit with the docker exporter,
// streams the exported image into the engine at dockerHost and returns the
// image id. Progress goes to log line by line; a failed step's last output
// lines are part of the error.
func solve(ctx context.Context, dockerHost string, s Settings, p *plan.BuildPlan, dir, ref string, vars map[string]string, noCache bool, outerLog func(string, ...any)) (string, error) {
	log := outerLog
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if dockerHost != "" {
		opts = append(opts, client.WithHost(dockerHost))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return "", fmt.Errorf("docker engine: %w", err)
	}
	defer cli.Close()

	platform, err := buildkit.ParsePlatformWithDefaults("")
	if err != nil {
		return "", err
	}
	state, img, err := buildkit.ConvertPlanToLLB(p, buildkit.ConvertPlanOptions{
		BuildPlatform: platform,
		SecretsHash:   secretsHash(vars),
		NoCache:       noCache,
	})
	if err != nil {
		return "", fmt.Errorf("converting the plan to LLB: %w", err)
	}
	imgJSON, err := json.Marshal(img)
	if err != nil {
		return "", fmt.Errorf("image config: %w", err)
	}
	def, err := state.Marshal(ctx)
	if err != nil {
		return "", fmt.Errorf("marshalling LLB: %w", err)
	}
	appFS, err := fsutil.NewFS(dir)
	if err != nil {
		return "", fmt.Errorf("reading the source: %w", err)
	}

	// After a cancelled Build has returned, nothing more is logged.
	var returned atomic.Bool
	log = func(format string, args ...any) {
		if !returned.Load() {
			outerLog(format, args...)
		}
	}
	bk, err := connect(ctx, cli, s, log)
	if err != nil {
		return "", err
	}

	// The docker exporter's tarball streams straight into the engine.
	pr, pw := io.Pipe()
	loaded := make(chan error, 1)
	go func() {
		resp, err := cli.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
		if err != nil {
			pr.CloseWithError(err)
			loaded <- fmt.Errorf("loading the image into the engine: %w", err)
			return
		}
		defer resp.Body.Close()
		err = readJSONMessages(resp.Body, log)
		_, _ = io.Copy(io.Discard, pr)
		if err != nil {
			err = fmt.Errorf("loading the image into the engine: %w", err)
		}
		loaded <- err
	}()

	secrets := map[string][]byte{}
	for k, v := range vars {
		secrets[k] = []byte(v)
	}
	ch := make(chan *bkclient.SolveStatus)
	prog := newProgress(log)
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		for st := range ch {
			prog.update(st)
		}
	}()
	start := time.Now()
	solved := make(chan error, 1)
	go func() {
		_, err := bk.Solve(ctx, def, bkclient.SolveOpt{
			LocalMounts: map[string]fsutil.FS{"context": appFS},
			Session:     []session.Attachable{secretsprovider.FromMap(secrets)},
			Exports: []bkclient.ExportEntry{{
				Type: bkclient.ExporterDocker,
				Attrs: map[string]string{
					"name":                  ref,
					"containerimage.config": string(imgJSON),
				},
				Output: func(map[string]string) (io.WriteCloser, error) { return pw, nil },
			}},
		}, ch)
		solved <- err
	}()
	select {
	case err = <-solved:
	case <-ctx.Done():
		// BuildKit cancels the solve, and kills the running step, as the
		// gRPC call is cancelled; the call's teardown (session, progress
		// stream) can outlast the second a cancelled build may take, so
		// it finishes in the background.
		select {
		case err = <-solved:
		case <-time.After(300 * time.Millisecond):
			returned.Store(true)
			pw.CloseWithError(ctx.Err())
			go func() { <-solved; <-progressDone; <-loaded; bk.Close() }()
			return "", fmt.Errorf("solve cancelled: %w", ctx.Err())
		}
	}
	defer bk.Close()
	<-progressDone
	prog.flush()
	if err != nil {
		pw.CloseWithError(err)
		<-loaded
		if ctx.Err() != nil {
			return "", fmt.Errorf("solve cancelled: %w", ctx.Err())
		}
		if out := prog.failure(); out != "" {
			return "", fmt.Errorf("%s\n%s", out, firstLine(err))
		}
		return "", fmt.Errorf("solve: %w", err)
	}
	pw.Close()
	if err := <-loaded; err != nil {
		return "", err
	}
	log("solved and loaded in %.1fs", time.Since(start).Seconds())
	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("the built image %s: %w", ref, err)
	}
	return insp.ID, nil
}

// firstLine is the first line of err's text.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// secretsHash changes when any variable's value changes, so that steps
// that read them are run again (as Railpack's CLI does); only the hash
// reaches BuildKit's cache keys.
func secretsHash(vars map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(h, "%s\x00%s\x00", k, vars[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// imagePullOptions are the options of the buildkitd image's pull.
func imagePullOptions() image.PullOptions { return image.PullOptions{} }

// readJSONMessages reads the engine's JSON message stream, sending stream
// text to log (when not nil) and returning the first error message.
func readJSONMessages(r io.Reader, log func(string, ...any)) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if log != nil {
			if s := strings.TrimSpace(m.Stream); s != "" {
				log("%s", s)
			}
		}
	}
}

// progress turns BuildKit's solve status into log lines: one when a step
// starts, its output line by line, and one when it ends.
type progress struct {
	log     func(string, ...any)
	num     map[digest.Digest]int
	names   map[digest.Digest]string
	started map[digest.Digest]bool
	ended   map[digest.Digest]bool
	partial map[digest.Digest]string
	tail    map[digest.Digest][]string
	failed  []digest.Digest
	errs    map[digest.Digest]string
}

// tailLines is how many output lines of a step a failure reports.
const tailLines = 20

func newProgress(log func(string, ...any)) *progress {
	return &progress{
		log: log, num: map[digest.Digest]int{}, names: map[digest.Digest]string{},
		started: map[digest.Digest]bool{}, ended: map[digest.Digest]bool{},
		partial: map[digest.Digest]string{}, tail: map[digest.Digest][]string{}, errs: map[digest.Digest]string{},
	}
}

func (p *progress) id(d digest.Digest) int {
	n, ok := p.num[d]
	if !ok {
		n = len(p.num) + 1
		p.num[d] = n
	}
	return n
}

func (p *progress) update(st *bkclient.SolveStatus) {
	for _, v := range st.Vertexes {
		p.names[v.Digest] = v.Name
		if v.Started != nil && !p.started[v.Digest] {
			p.started[v.Digest] = true
			p.log("#%d %s", p.id(v.Digest), v.Name)
		}
		if v.Completed != nil && !p.ended[v.Digest] {
			p.ended[v.Digest] = true
			n := p.id(v.Digest)
			switch {
			case v.Error != "":
				p.flushVertex(v.Digest)
				p.failed = append(p.failed, v.Digest)
				p.errs[v.Digest] = v.Error
				p.log("#%d ERROR: %s", n, v.Error)
			case v.Cached:
				p.log("#%d CACHED", n)
			case v.Started != nil:
				p.log("#%d DONE %.1fs", n, v.Completed.Sub(*v.Started).Seconds())
			}
		}
	}
	for _, l := range st.Logs {
		text := p.partial[l.Vertex] + string(l.Data)
		lines := strings.Split(text, "\n")
		p.partial[l.Vertex] = lines[len(lines)-1]
		for _, line := range lines[:len(lines)-1] {
			p.line(l.Vertex, strings.TrimRight(line, "\r"))
		}
	}
}

func (p *progress) line(d digest.Digest, line string) {
	p.log("#%d %s", p.id(d), line)
	t := append(p.tail[d], line)
	if len(t) > tailLines {
		t = t[len(t)-tailLines:]
	}
	p.tail[d] = t
}

func (p *progress) flushVertex(d digest.Digest) {
	if rest := p.partial[d]; rest != "" {
		p.partial[d] = ""
		p.line(d, rest)
	}
}

// flush logs the output lines not yet ended by a newline.
func (p *progress) flush() {
	for d := range p.partial {
		p.flushVertex(d)
	}
}

// failure describes the failed steps with their last output lines.
func (p *progress) failure() string {
	var b strings.Builder
	for _, d := range p.failed {
		if strings.Contains(p.errs[d], "context canceled") {
			continue
		}
		fmt.Fprintf(&b, "step %q failed: %s", p.names[d], p.errs[d])
		if t := p.tail[d]; len(t) > 0 {
			fmt.Fprintf(&b, "\n%s", strings.Join(t, "\n"))
		}
		b.WriteString("\n")
	}
	return strings.TrimSpace(b.String())
}
