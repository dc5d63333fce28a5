// Command procfile is berth's test Procfile buildpack (id
// berth-test/procfile), written with Paketo's packit/v2 library: it detects
// a Procfile at the application root and declares each of its lines as a
// launch process. Buildpack API 0.10 has direct processes only, so a line
// is split into words and run without a shell unless it uses shell syntax,
// in which case it runs under "sh -c" (which then needs a shell in the run
// image). The "web" process is the default, as on Heroku.
//
// One binary serves both phases: packit.Run dispatches on the name it was
// called by (bin/detect and bin/build are links to it).
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paketo-buildpacks/packit/v2"
)

func main() { packit.Run(detect, build) }

// detect passes when the application has a Procfile.
func detect(ctx packit.DetectContext) (packit.DetectResult, error) {
	if _, err := os.Stat(filepath.Join(ctx.WorkingDir, "Procfile")); err != nil {
		return packit.DetectResult{}, packit.Fail.WithMessage("no Procfile")
	}
	return packit.DetectResult{}, nil
}

// build declares the Procfile's processes.
func build(ctx packit.BuildContext) (packit.BuildResult, error) {
	procs, err := parseProcfile(filepath.Join(ctx.WorkingDir, "Procfile"))
	if err != nil {
		return packit.BuildResult{}, err
	}
	if len(procs) == 0 {
		return packit.BuildResult{}, fmt.Errorf("Procfile declares no process")
	}
	hasWeb := false
	for _, p := range procs {
		hasWeb = hasWeb || p.Type == "web"
	}
	for i := range procs {
		procs[i].Default = procs[i].Type == "web" || (!hasWeb && i == 0)
		fmt.Printf("procfile: process %s: %s\n", procs[i].Type, strings.Join(append(procs[i].Command, procs[i].Args...), " "))
	}
	return packit.BuildResult{Launch: packit.LaunchMetadata{DirectProcesses: procs}}, nil
}

// parseProcfile reads "type: command" lines, skipping blanks and comments.
func parseProcfile(path string) ([]packit.DirectProcess, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var procs []packit.DirectProcess
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		typ, cmd, ok := strings.Cut(line, ":")
		typ, cmd = strings.TrimSpace(typ), strings.TrimSpace(cmd)
		if !ok || typ == "" || cmd == "" {
			return nil, fmt.Errorf("Procfile line %d: want \"type: command\", got %q", n, line)
		}
		words := []string{"sh", "-c", cmd}
		if !strings.ContainsAny(cmd, "$&|;<>()`'\"\\*?~") {
			words = strings.Fields(cmd)
		}
		procs = append(procs, packit.DirectProcess{Type: typ, Command: words[:1], Args: words[1:]})
	}
	return procs, sc.Err()
}
