// Package database is the catalogue of the database engines berth runs:
// for each engine its default image, internal port, data directory, the
// environment its image reads credentials from, its health check, its
// connection URL, and the argv and environment of its dump and restore
// tools. It is pure: nothing here talks to Docker or a database.
package database

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Engine names a database engine.
type Engine string

// Engines berth runs.
const (
	Postgres Engine = "postgres"
	MySQL    Engine = "mysql"
	MariaDB  Engine = "mariadb"
	MongoDB  Engine = "mongodb"
	Redis    Engine = "redis"
)

// Spec describes how berth runs and backs up one engine. Images must honour
// the official image's contract for that engine (environment variables,
// data directory, tools on PATH).
type Spec struct {
	Engine Engine
	// Image is the default image repository, e.g. "postgres".
	Image string
	// Version is the default tag, e.g. "16".
	Version string
	// Port is the port the server listens on inside the container.
	Port int
	// DataPath is where the volume is mounted.
	DataPath string
	// DumpExtension names the dump format in backup keys ("dump", "sql",
	// "archive", "rdb"); ".gz" is appended.
	DumpExtension string
	// URLScheme is the scheme of connection URLs.
	URLScheme string
}

var catalogue = map[Engine]Spec{
	Postgres: {Engine: Postgres, Image: "postgres", Version: "16", Port: 5432, DataPath: "/var/lib/postgresql/data", DumpExtension: "dump", URLScheme: "postgresql"},
	MySQL:    {Engine: MySQL, Image: "mysql", Version: "8.4", Port: 3306, DataPath: "/var/lib/mysql", DumpExtension: "sql", URLScheme: "mysql"},
	MariaDB:  {Engine: MariaDB, Image: "mariadb", Version: "11", Port: 3306, DataPath: "/var/lib/mysql", DumpExtension: "sql", URLScheme: "mysql"},
	MongoDB:  {Engine: MongoDB, Image: "mongo", Version: "7", Port: 27017, DataPath: "/data/db", DumpExtension: "archive", URLScheme: "mongodb"},
	Redis:    {Engine: Redis, Image: "redis", Version: "7", Port: 6379, DataPath: "/data", DumpExtension: "rdb", URLScheme: "redis"},
}

// Engines lists every engine in a stable order.
func Engines() []Engine { return []Engine{Postgres, MySQL, MariaDB, MongoDB, Redis} }

// Lookup returns the spec of engine e.
func Lookup(e Engine) (Spec, bool) {
	s, ok := catalogue[e]
	return s, ok
}

// Valid reports whether e is a known engine.
func (e Engine) Valid() bool { return slices.Contains(Engines(), e) }

// ImageRef returns the image reference to run: image (default: the
// engine's) with version as its tag (default: the engine's) unless image
// already carries a tag or digest.
func (s Spec) ImageRef(image, version string) string {
	if image == "" {
		image = s.Image
	}
	if version == "" {
		version = s.Version
	}
	if hasTag(image) {
		return image
	}
	return image + ":" + version
}

// hasTag reports whether ref names a tag or digest after its last slash.
func hasTag(ref string) bool {
	for i := len(ref) - 1; i >= 0; i-- {
		switch ref[i] {
		case '/':
			return false
		case ':', '@':
			return true
		}
	}
	return false
}

// Credentials are a database's generated secrets. User and Password are
// the application's login (for Redis only Password is used); RootPassword is
// MySQL/MariaDB's root password, used for dumps and restores.
type Credentials struct {
	User         string `json:"user"`
	Password     string `json:"password"`
	Database     string `json:"database"`
	RootPassword string `json:"root_password,omitempty"`
}

// Env is the container environment that makes the image create the
// database and its users on first start.
func (s Spec) Env(c Credentials) map[string]string {
	switch s.Engine {
	case Postgres:
		return map[string]string{"POSTGRES_USER": c.User, "POSTGRES_PASSWORD": c.Password, "POSTGRES_DB": c.Database,
			"PGDATA": s.DataPath}
	case MySQL:
		return map[string]string{"MYSQL_ROOT_PASSWORD": c.RootPassword, "MYSQL_DATABASE": c.Database,
			"MYSQL_USER": c.User, "MYSQL_PASSWORD": c.Password}
	case MariaDB:
		return map[string]string{"MARIADB_ROOT_PASSWORD": c.RootPassword, "MARIADB_DATABASE": c.Database,
			"MARIADB_USER": c.User, "MARIADB_PASSWORD": c.Password}
	case MongoDB:
		return map[string]string{"MONGO_INITDB_ROOT_USERNAME": c.User, "MONGO_INITDB_ROOT_PASSWORD": c.Password,
			"MONGO_INITDB_DATABASE": c.Database}
	case Redis:
		// REDISCLI_AUTH lets redis-cli (health check, dumps) authenticate
		// without the password on its command line.
		return map[string]string{"REDISCLI_AUTH": c.Password}
	}
	return map[string]string{}
}

// Args is the container command (the image's CMD) when the engine needs
// one: Redis reads its password from RedisConfigFile (see Files) and takes
// its persistence settings as arguments. RDB snapshots only: an
// append-only file would take precedence over a restored dump.rdb.
func (s Spec) Args(c Credentials) []string {
	if s.Engine == Redis {
		return []string{"redis-server", RedisConfigFile, "--appendonly", "no", "--save", "60", "1", "--dir", s.DataPath}
	}
	return nil
}

// RedisConfigFile is the configuration file the Redis container reads
// its password from, so the password is not on redis-server's command
// line (readable by every process on the host).
const RedisConfigFile = "/etc/berth/redis.conf"

// File is a file the engine's container reads, mounted read-only.
type File struct {
	Path string
	Data []byte
}

// Files are the files the engine's container needs: Redis's
// configuration holding requirepass.
func (s Spec) Files(c Credentials) []File {
	if s.Engine == Redis {
		return []File{{Path: RedisConfigFile, Data: []byte("requirepass " + redisQuote(c.Password) + "\n")}}
	}
	return nil
}

// redisQuote writes v as a double-quoted string of Redis's configuration
// syntax: quotes and backslashes escaped, bytes outside printable ASCII
// as \xHH.
func redisQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// HealthCheck is the health check in exec form (no shell); it never
// carries a password.
func (s Spec) HealthCheck(c Credentials) []string {
	switch s.Engine {
	case Postgres:
		return []string{"pg_isready", "-h", "127.0.0.1", "-U", c.User, "-d", c.Database}
	case MySQL:
		// ping succeeds without credentials once the server answers.
		return []string{"mysqladmin", "ping", "-h", "127.0.0.1", "--silent"}
	case MariaDB:
		return []string{"mariadb-admin", "ping", "-h", "127.0.0.1", "--silent"}
	case MongoDB:
		return []string{"mongosh", "--quiet", "--norc", "--eval", "db.adminCommand('ping').ok"}
	case Redis:
		return []string{"redis-cli", "-h", "127.0.0.1", "ping"}
	}
	return nil
}

// URL is the connection URL of the database at host:port.
func (s Spec) URL(c Credentials, host string, port int) string {
	hostPort := host + ":" + strconv.Itoa(port)
	switch s.Engine {
	case Redis:
		return (&url.URL{Scheme: s.URLScheme, User: url.UserPassword("", c.Password), Host: hostPort}).String()
	case MongoDB:
		return (&url.URL{Scheme: s.URLScheme, User: url.UserPassword(c.User, c.Password), Host: hostPort,
			Path: "/" + c.Database, RawQuery: "authSource=admin"}).String()
	default:
		return (&url.URL{Scheme: s.URLScheme, User: url.UserPassword(c.User, c.Password), Host: hostPort,
			Path: "/" + c.Database}).String()
	}
}

// String returns the engine name.
func (e Engine) String() string { return string(e) }

// errUnknown reports an engine missing from the catalogue.
func errUnknown(e Engine) error { return fmt.Errorf("unknown database engine %q", e) }
