package cli

import (
	"context"
	"flag"
	"net/url"
)

// releaseDiff is GET /deployments/:id/diff's answer.
type releaseDiff struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Changes []struct {
		Field  string  `json:"field"`
		From   *string `json:"from"`
		To     *string `json:"to"`
		Secret bool    `json:"secret"`
	} `json:"changes"`
}

// diffCmd is `berth deployments diff ID OTHER`: what changed from release
// OTHER to release ID.
func diffCmd() command {
	return simple("diff", "DEPLOYMENT_ID OTHER_ID", "Show what changed from release OTHER_ID to DEPLOYMENT_ID (image, variables, settings, files, mounts; secret values masked).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		return func(ctx context.Context, e *Env, c *Client, args []string) error {
			var d releaseDiff
			if err := c.Do(ctx, "GET", api+"/deployments/"+url.PathEscape(args[0])+"/diff", url.Values{"against": {args[1]}}, nil, &d); err != nil {
				return err
			}
			d.Changes = orEmpty(d.Changes)
			return e.print(d, []string{"FIELD", "FROM", "TO"}, func(i int) []string {
				ch := d.Changes[i]
				return []string{ch.Field, orAbsent(ch.From), orAbsent(ch.To)}
			}, len(d.Changes))
		}
	})
}

// orAbsent shows a value a release does not have as "-".
func orAbsent(v *string) string {
	if v == nil {
		return "-"
	}
	return *v
}
