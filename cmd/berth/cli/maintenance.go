package cli

import (
	"context"
	"flag"
	"io"
	"net/url"
	"os"
)

// maintenanceCmd enters or leaves an application's maintenance mode, or
// shows it.
func maintenanceCmd() command {
	return simple("maintenance", "APP_ID [on|off]", "Show maintenance mode, or turn it on (every domain answers 503 with Retry-After and a page) or off; --page FILE (- for stdin, an empty file for the default page) and --retry-after N keep their saved values when left out.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		pageFile := fs.String("page", "", "HTML file answered with 503 (- reads stdin)")
		retry := fs.Int("retry-after", 0, "Retry-After in seconds (1 to 604800)")
		return func(ctx context.Context, e *Env, c *Client, args []string) error {
			path := api + "/applications/" + url.PathEscape(args[0]) + "/maintenance"
			var out map[string]any
			if len(args) == 1 {
				if err := c.Do(ctx, "GET", path, nil, nil, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
			body := map[string]any{}
			switch args[1] {
			case "on":
				body["enabled"] = true
			case "off":
				body["enabled"] = false
			default:
				return usageErr("berth apps maintenance: %q is not on or off", args[1])
			}
			if *pageFile != "" {
				page, err := readPage(e, *pageFile)
				if err != nil {
					return err
				}
				body["page"] = page
			}
			if *retry != 0 {
				body["retry_after_seconds"] = *retry
			}
			if err := c.Do(ctx, "PUT", path, nil, body, &out); err != nil {
				return err
			}
			return e.printObject(out)
		}
	})
}

// readPage reads the page from a file, or stdin for "-".
func readPage(e *Env, name string) (string, error) {
	var r io.Reader = e.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", usageErr("--page: %v", err)
		}
		defer f.Close()
		r = f
	}
	// Twice what the server accepts: a larger page gets the server's
	// message naming the limit rather than being cut here.
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", usageErr("--page: %v", err)
	}
	return string(b), nil
}
