package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
)

// Env is what a command runs with: streams and the parsed common flags.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	output         string
	server, token  string
}

type command struct {
	name    string
	args    string
	summary string
	flags   func(fs *flag.FlagSet) func(ctx context.Context, e *Env, args []string) error
}

// group is a verb with subcommands, e.g. `berth projects list`.
type group struct {
	name, summary string
	commands      []command
}

// Run executes the CLI verb in args (without the program name and without
// "server", which main handles). It returns the error to print; Code(err)
// gives the exit code.
func Run(ctx context.Context, e *Env, args []string) error {
	groups := groups()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(e.Stdout, groups)
		return nil
	}
	// Two-word groups such as `backups destinations`.
	if len(args) > 1 {
		for _, g := range groups {
			if g.name == args[0]+" "+args[1] {
				args = append([]string{g.name}, args[2:]...)
				break
			}
		}
	}
	for _, g := range groups {
		if g.name != args[0] {
			continue
		}
		if g.commands[0].name == "" { // single command verb
			return runCommand(ctx, e, g.name, g.commands[0], args[1:])
		}
		if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
			printGroupUsage(e.Stdout, g)
			if len(args) < 2 {
				return usageErr("berth %s: a subcommand is required", g.name)
			}
			return nil
		}
		for _, c := range g.commands {
			if c.name == args[1] {
				return runCommand(ctx, e, g.name+" "+c.name, c, args[2:])
			}
		}
		printGroupUsage(e.Stderr, g)
		return usageErr("berth %s: unknown subcommand %q", g.name, args[1])
	}
	return usageErr("unknown command %q; run `berth help`", args[0])
}

func runCommand(ctx context.Context, e *Env, name string, c command, args []string) error {
	fs := flag.NewFlagSet("berth "+name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.StringVar(&e.output, "output", envOr("BERTH_OUTPUT", "table"), "output format: table or json")
	fs.StringVar(&e.output, "o", envOr("BERTH_OUTPUT", "table"), "shorthand for --output")
	fs.StringVar(&e.server, "server", os.Getenv("BERTH_SERVER"), "berth server URL (default: the saved login)")
	fs.StringVar(&e.token, "token", os.Getenv("BERTH_TOKEN"), "API key (default: the saved login)")
	run := c.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "usage: berth %s [flags] %s\n\n%s\n\nflags:\n", name, c.args, c.summary)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err == flag.ErrHelp {
		return nil
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if e.output != "table" && e.output != "json" {
		return usageErr("--output must be table or json, not %q", e.output)
	}
	want := len(strings.Fields(strings.NewReplacer("[", "", "]", "").Replace(c.args)))
	required := len(strings.Fields(c.args)) - strings.Count(c.args, "[")
	if strings.HasSuffix(c.args, "...") {
		want = 1 << 30
	}
	if len(pos) < required || len(pos) > want {
		fs.Usage()
		return usageErr("berth %s: expected arguments %q, got %d", name, c.args, len(pos))
	}
	return run(ctx, e, pos)
}

// parseInterleaved parses flags that may appear after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // reported by fs.Parse
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	return append(pos, fs.Args()...), nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// client returns an API client from flags, environment or saved credentials.
func (e *Env) client() (*Client, error) {
	creds, err := loadCredentials()
	if err != nil {
		return nil, err
	}
	server, token := e.server, e.token
	if server == "" {
		server = creds.Server
	}
	if token == "" && strings.TrimRight(server, "/") == strings.TrimRight(creds.Server, "/") {
		token = creds.APIKey
	}
	if server == "" || token == "" {
		return nil, &exitError{code: ExitAuth, msg: "not logged in: run `berth login --server URL` (or set BERTH_SERVER and BERTH_TOKEN)"}
	}
	return newClient(server, token), nil
}

// print writes v as JSON, or as a table of the given columns.
func (e *Env) print(v any, columns []string, row func(i int) []string, n int) error {
	if e.output == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	for i := 0; i < n; i++ {
		fmt.Fprintln(tw, strings.Join(row(i), "\t"))
	}
	return tw.Flush()
}

// printObject writes one object as JSON or as KEY: value lines.
func (e *Env) printObject(v any) error {
	if e.output == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	data, _ := json.Marshal(v)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // sizes print as 12859346, not 1.2859346e+07
	if err := dec.Decode(&m); err != nil {
		_, err := fmt.Fprintln(e.Stdout, string(data))
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
	for _, k := range keys {
		val := m[k]
		s := fmt.Sprint(val)
		if _, ok := val.(map[string]any); ok {
			b, _ := json.Marshal(val)
			s = string(b)
		} else if _, ok := val.([]any); ok {
			b, _ := json.Marshal(val)
			s = string(b)
		} else if val == nil {
			s = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\n", k, s)
	}
	return tw.Flush()
}

// readPassword reads a password from stdin: a terminal prompt without echo,
// or one line when stdin is a pipe (--password-stdin).
func (e *Env) readPassword(prompt string) (string, error) {
	if f, ok := e.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(e.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func printUsage(w io.Writer, groups []group) {
	fmt.Fprint(w, "berth: a self-hosted platform as a service\n\nusage: berth <command> [subcommand] [flags]\n\ncommands:\n")
	fmt.Fprintf(w, "  %-12s %s\n", "server", "run the berth server (API, proxy, embedded database)")
	for _, g := range groups {
		fmt.Fprintf(w, "  %-12s %s\n", g.name, g.summary)
	}
	fmt.Fprint(w, "\nEvery command accepts --output json, --server URL and --token KEY.\nExit codes: 0 ok, 1 error, 2 usage, 3 not logged in, 4 not found.\n")
}

func printGroupUsage(w io.Writer, g group) {
	fmt.Fprintf(w, "berth %s: %s\n\nsubcommands:\n", g.name, g.summary)
	for _, c := range g.commands {
		fmt.Fprintf(w, "  %-8s %-28s %s\n", c.name, c.args, c.summary)
	}
}
