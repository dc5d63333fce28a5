package railpack

import (
	"fmt"
	"strings"

	"github.com/railwayapp/railpack/core"
	"github.com/railwayapp/railpack/core/app"
	"github.com/railwayapp/railpack/core/logger"
	"github.com/railwayapp/railpack/core/plan"
)

// makePlan runs Railpack's planner on the source in dir, as `railpack
// build` does, with the app's settings as its options and vars as its
// environment (RAILPACK_* variables configure it). Railpack's messages go
// to log; a plan Railpack cannot make fails with its error messages.
func makePlan(dir string, as AppSettings, vars map[string]string, log func(string, ...any)) (*plan.BuildPlan, error) {
	a, err := app.NewApp(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the source: %w", err)
	}
	env := app.NewEnvironment(&vars)
	res, err := core.GenerateBuildPlan(a, env, &core.GenerateBuildPlanOptions{
		RailpackVersion: RailpackVersion,
		BuildCommand:    as.BuildCommand,
		StartCommand:    as.StartCommand,
		ConfigFilePath:  as.ConfigFile,
	})
	var problems []string
	if res != nil {
		for _, m := range res.Logs {
			log("railpack %s: %s", m.Level, strings.TrimSpace(m.Msg))
			// A failed plan's error carries Railpack's warnings too: they
			// often name the cause ("Failed to read config file ...").
			if m.Level == logger.Error || m.Level == logger.Warn {
				problems = append(problems, strings.TrimSpace(m.Msg))
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPlan, err)
	}
	if res == nil || !res.Success || res.Plan == nil {
		return nil, fmt.Errorf("%w: %s", errPlan, strings.Join(problems, "; "))
	}
	log("railpack %s planned the app with the %s provider", RailpackVersion, strings.Join(res.DetectedProviders, ", "))
	for name, p := range res.ResolvedPackages {
		if p.ResolvedVersion != nil {
			log("package %s %s", name, *p.ResolvedVersion)
		}
	}
	var missing []string
	for _, s := range res.Plan.Secrets {
		if _, ok := vars[s]; !ok {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the plan needs the variables %s, which the app does not set", errPlan, strings.Join(missing, ", "))
	}
	if len(vars) > 0 {
		log("build variables (passed as secrets): %s", secretNames(vars))
	}
	return res.Plan, nil
}
