package database

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestNoPasswordInAnyArgv checks, for every engine, that no command berth
// runs in or for a database container carries a password on its command
// line (where every process on the host can read it).
func TestNoPasswordInAnyArgv(t *testing.T) {
	c := Credentials{User: "berth", Password: "Pw-9f8e7d6c5b4a", Database: "shop", RootPassword: "Root-0a1b2c3d4e"}
	for _, e := range Engines() {
		s, _ := Lookup(e)
		argvs := map[string][]string{"health check": s.HealthCheck(c)}
		if d, err := s.Dump(c); err == nil {
			argvs["dump"] = d.Argv
		} else {
			t.Errorf("%s: Dump: %v", e, err)
		}
		if r, err := s.Restore(c, "orders"); err == nil {
			argvs["restore"] = r.Argv
		} else if e != Redis {
			t.Errorf("%s: Restore: %v", e, err)
		}
		argvs["container command"] = s.Args(c)
		for what, argv := range argvs {
			for _, a := range argv {
				if strings.Contains(a, c.Password) || strings.Contains(a, c.RootPassword) {
					t.Errorf("%s %s: a password is in argv %q", e, what, argv)
				}
			}
		}
	}
}

// TestMongoScriptsKeepThePasswordOffArgv runs the dump and restore scripts
// with stand-in Mongo tools (MongoDB is not in Debian, so it cannot run
// here) and wrappers recording the argv of every program the scripts
// start: the password is in none of them, the tool gets it in a private
// --config file that parses as YAML, and the file is gone afterwards.
func TestMongoScriptsKeepThePasswordOffArgv(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("sh is required: %v", err)
	}
	// A password with every character YAML or the shell could trip on.
	const password = `p"a's$s\w` + "`o\trd#: {x}\u00e9"
	c := Credentials{User: "berth", Password: password, Database: "shop"}
	s, _ := Lookup(MongoDB)
	dump, _ := s.Dump(c)
	restore, _ := s.Restore(c, "orders")
	for name, cmd := range map[string]Command{"mongodump": dump, "mongorestore": restore} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			bin, tmp, log := filepath.Join(dir, "bin"), filepath.Join(dir, "tmp"), filepath.Join(dir, "argv.log")
			for _, d := range []string{bin, tmp} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// Wrappers log their argv, then run the real program; the
			// tool stand-in keeps a copy of its --config file.
			for _, prog := range []string{"mktemp", "rm"} {
				real, err := exec.LookPath(prog)
				if err != nil {
					t.Fatalf("%s is required: %v", prog, err)
				}
				writeScript(t, filepath.Join(bin, prog), `printf '%s\n' "$0 $*" >> "$ARGV_LOG"; exec `+real+` "$@"`)
			}
			writeScript(t, filepath.Join(bin, name), `printf '%s\n' "$0 $*" >> "$ARGV_LOG"
PATH=/usr/bin:/bin
while [ $# -gt 0 ]; do
  if [ "$1" = --config ]; then cp "$2" "$ARGV_LOG.config"; stat -c %a "$2" > "$ARGV_LOG.mode"; fi
  shift
done
exit 3`)
			run := exec.Command(sh, cmd.Argv[1:]...)
			run.Env = append([]string{"PATH=" + bin, "TMPDIR=" + tmp, "ARGV_LOG=" + log}, cmd.Env...)
			out, err := run.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Fatalf("script: %v (want the tool's exit status 3)\n%s", err, out)
			}
			argv, _ := os.ReadFile(log)
			if strings.Contains(string(argv), "p\"a") || strings.Contains(string(argv), "w`o") {
				t.Fatalf("the password reached an argv:\n%s", argv)
			}
			if !strings.Contains(string(argv), name+" --config ") || !strings.Contains(string(argv), "--username berth") {
				t.Fatalf("the tool was not run as expected:\n%s", argv)
			}
			if name == "mongorestore" && !strings.Contains(string(argv), "--nsFrom orders.* --nsTo shop.*") {
				t.Fatalf("restore does not rename orders.* to shop.*:\n%s", argv)
			}
			config, err := os.ReadFile(log + ".config")
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Password string }
			if err := yaml.Unmarshal(config, &doc); err != nil || doc.Password != password {
				t.Fatalf("config %q parses to %q (%v), want the password", config, doc.Password, err)
			}
			if mode, _ := os.ReadFile(log + ".mode"); strings.TrimSpace(string(mode)) != "600" {
				t.Fatalf("config file mode %s, want 600", mode)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("the config file was left behind: %v", left)
			}
		})
	}
	if !slices.Contains(restore.Env, "BERTH_DB_SOURCE=orders") {
		t.Fatalf("restore env %q", restore.Env)
	}
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestRedisQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abcXYZ019", `"abcXYZ019"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"tab\tnew\nline\x00\u00e9", `"tab\x09new\x0aline\x00\xc3\xa9"`},
		{"", `""`},
	} {
		if got := redisQuote(tc.in); got != tc.want {
			t.Errorf("redisQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
