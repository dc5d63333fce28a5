package database

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Command is a process to run inside the database's container: argv (never
// a shell string with user values) and extra environment in KEY=value form.
// Passwords travel in Env only.
type Command struct {
	Argv []string
	Env  []string
}

// The Mongo tools take a password on their command line (visible to every
// process on the host in /proc/<pid>/cmdline) or in a YAML file named by
// --config. The scripts below write BERTH_MONGO_CONFIG (a YAML document
// built by mongoConfig) to a private temporary file inside the container,
// run the tool with --config and remove the file when the tool exits. The
// scripts are constant; every value comes from Env, so no password or
// user-chosen name reaches any argv (printf is a shell builtin: it is not
// a process of its own). --config needs MongoDB Database Tools 100.3.0
// (2021) or later.
const mongoPrelude = `set -eu
umask 077
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
trap 'exit 143' TERM INT HUP
printf '%s\n' "$BERTH_MONGO_CONFIG" > "$cfg"
`

// mongoDumpScript writes an archive of one database to stdout.
const mongoDumpScript = mongoPrelude + `mongodump --config "$cfg" --archive --username "$BERTH_DB_USER" --authenticationDatabase admin --db "$BERTH_DB_NAME"`

// mongoRestoreScript renames the dumped database's namespaces onto the
// target's, so a dump restores into another database of the engine too.
const mongoRestoreScript = mongoPrelude + `mongorestore --config "$cfg" --archive --drop --username "$BERTH_DB_USER" --authenticationDatabase admin --nsFrom "$BERTH_DB_SOURCE.*" --nsTo "$BERTH_DB_NAME.*"`

// mongoConfig is the --config document holding the password: a YAML
// mapping whose value is a JSON string, which YAML reads as a
// double-quoted scalar, so any character is escaped.
func mongoConfig(password string) string {
	q, _ := json.Marshal(password) // a string always marshals
	return "password: " + string(q)
}

// mongoEnv is the environment of the Mongo scripts.
func mongoEnv(c Credentials) []string {
	return []string{"BERTH_DB_USER=" + c.User, "BERTH_DB_NAME=" + c.Database, "BERTH_MONGO_CONFIG=" + mongoConfig(c.Password)}
}

// Dump is the command writing a dump of the database to stdout: pg_dump's
// custom format, a single-transaction SQL dump with routines, triggers and
// events, a mongodump archive, or Redis's RDB snapshot.
func (s Spec) Dump(c Credentials) (Command, error) {
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"pg_dump", "-Fc", "-h", "127.0.0.1", "-U", c.User, "-d", c.Database},
			Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		tool := "mysqldump"
		if s.Engine == MariaDB {
			tool = "mariadb-dump"
		}
		return Command{Argv: []string{tool, "--single-transaction", "--routines", "--triggers", "--events",
			"-h", "127.0.0.1", "-u", "root", c.Database}, Env: []string{"MYSQL_PWD=" + c.RootPassword}}, nil
	case MongoDB:
		return Command{Argv: []string{"sh", "-c", mongoDumpScript}, Env: mongoEnv(c)}, nil
	case Redis:
		return Command{Argv: []string{"redis-cli", "-h", "127.0.0.1", "--rdb", "-"}, Env: []string{"REDISCLI_AUTH=" + c.Password}}, nil
	}
	return Command{}, errUnknown(s.Engine)
}

// Restore is the command reading a dump made by Dump on stdin and loading
// it into the database of c, replacing the objects the dump contains.
// source is the database name the dump was taken from (MongoDB renames
// namespaces from it). Redis has no restore command: its dump.rdb is
// replaced in the volume while the server is stopped (see RedisDumpFile).
func (s Spec) Restore(c Credentials, source string) (Command, error) {
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
			"-h", "127.0.0.1", "-U", c.User, "-d", c.Database}, Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		tool := "mysql"
		if s.Engine == MariaDB {
			tool = "mariadb"
		}
		return Command{Argv: []string{tool, "-h", "127.0.0.1", "-u", "root", c.Database},
			Env: []string{"MYSQL_PWD=" + c.RootPassword}}, nil
	case MongoDB:
		if source == "" {
			source = c.Database
		}
		return Command{Argv: []string{"sh", "-c", mongoRestoreScript}, Env: append(mongoEnv(c), "BERTH_DB_SOURCE="+source)}, nil
	case Redis:
		return Command{}, fmt.Errorf("redis restores by replacing %s while the server is stopped, not by a command", RedisDumpFile)
	}
	return Command{}, errUnknown(s.Engine)
}

// RedisDumpFile is the snapshot Redis loads at start, relative to its data
// directory; RedisAOFPaths would take precedence over it and are removed
// before a restore.
const RedisDumpFile = "dump.rdb"

// RedisAOFPaths are Redis's append-only files, relative to its data directory.
var RedisAOFPaths = []string{"appendonly.aof", "appendonlydir"}

// ContentType is the backup object's media type.
func (s Spec) ContentType() string { return "application/gzip" }

// NeedsRestart reports whether a restore replaces files while the server is
// stopped (Redis) rather than running a command against the live server.
func (s Spec) NeedsRestart() bool { return s.Engine == Redis }

const passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewPassword returns n random characters from [a-zA-Z0-9] drawn with
// crypto/rand (no bias: rejection sampling).
func NewPassword(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		for _, b := range buf {
			if int(b) < 256-256%len(passwordAlphabet) && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// DatabaseName derives a database name safe for every engine from a
// berth name: lower case letters, digits and underscores, not starting with
// a digit, at most 63 characters.
func DatabaseName(name string) string {
	n := nonIdent.ReplaceAllString(strings.ToLower(name), "_")
	n = strings.Trim(n, "_")
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		n = "db_" + n
	}
	return strings.TrimRight(n[:min(len(n), 63)], "_")
}

// NewCredentials generates credentials for a new database named name.
func NewCredentials(e Engine, name string) (Credentials, error) {
	if !e.Valid() {
		return Credentials{}, errUnknown(e)
	}
	pw, err := NewPassword(32)
	if err != nil {
		return Credentials{}, err
	}
	c := Credentials{User: "berth", Password: pw, Database: DatabaseName(name)}
	if e == MySQL || e == MariaDB {
		if c.RootPassword, err = NewPassword(32); err != nil {
			return Credentials{}, err
		}
	}
	if e == Redis {
		c.User, c.Database = "", ""
	}
	return c, nil
}
