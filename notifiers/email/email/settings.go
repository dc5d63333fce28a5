package email

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// Connection security modes.
const (
	// SecuritySTARTTLS upgrades a plain connection with STARTTLS and
	// refuses servers that do not offer it (port 587).
	SecuritySTARTTLS = "starttls"
	// SecurityTLS speaks SMTP inside TLS from the first byte (port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in clear text; it is accepted only for servers on
	// a loopback address (a local relay or a test server), never across a
	// network.
	SecurityNone = "none"
)

// Authentication mechanisms.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// MaxRecipients bounds the recipients of one message.
const MaxRecipients = 50

// Settings are the plugin's settings.
type Settings struct {
	// Host is the SMTP server's name or address.
	// Its schema marks it x-berth-outbound-host with Port as its port, so
	// berth checks it as it checks URLs (docs/outbound.md).
	Host string `json:"host" jsonschema:"required,title=SMTP server,example=smtp.example.com" jsonschema_extras:"x-berth-outbound-host=port" jsonschema_description:"Name or address of the SMTP server."`
	// Port is the server's port; 0 picks the port of Security.
	Port int `json:"port,omitempty" jsonschema:"title=Port,minimum=0,maximum=65535" jsonschema_description:"Port of the SMTP server. Empty: 587 for starttls, 465 for tls, 25 for none."`
	// Security is starttls, tls or none.
	Security string `json:"security,omitempty" jsonschema:"title=Connection security,enum=starttls,enum=tls,enum=none,default=starttls" jsonschema_description:"starttls: upgrade with STARTTLS (required); tls: implicit TLS; none: clear text, only for a server on a loopback address."`
	// CACert is a PEM bundle trusted for the server's certificate, in
	// addition to the system's roots.
	CACert string `json:"ca_cert,omitempty" jsonschema:"title=CA certificate (PEM)" jsonschema_description:"PEM certificates trusted for the server's certificate besides the system roots, for servers with a private CA."`
	// Username and Password authenticate; empty: no authentication.
	Username string `json:"username,omitempty" jsonschema:"title=Username" jsonschema_description:"SMTP user. Empty: send without authenticating."`
	// Password goes with Username.
	Password string `json:"password,omitempty" jsonschema:"title=Password,writeOnly=true"`
	// Auth is the mechanism: plain (default) or login.
	Auth string `json:"auth,omitempty" jsonschema:"title=Authentication mechanism,enum=plain,enum=login,default=plain" jsonschema_description:"AUTH PLAIN or AUTH LOGIN."`
	// From is the sender.
	From string `json:"from" jsonschema:"required,title=From,example=berth <berth@example.com>" jsonschema_description:"Sender address; a name may be given as Name <address>."`
	// To are the recipients.
	To []string `json:"to" jsonschema:"required,title=To,minItems=1,maxItems=50" jsonschema_description:"Recipient addresses (at most 50)."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("E-mail (SMTP)", "Sends events as e-mails through an SMTP server."))

// config is checked settings, ready to send with.
type config struct {
	Settings
	addr  string
	from  *mail.Address
	to    []*mail.Address
	roots *x509.CertPool // nil: the system's
}

// check validates s and fills in defaults.
func check(s Settings) (*config, error) {
	var errs sdk.ConfigError
	c := &config{Settings: s}
	if s.Host == "" || strings.ContainsAny(s.Host, " /:@") && net.ParseIP(s.Host) == nil {
		errs.Add("host", "must be a host name or IP address")
	}
	switch c.Security {
	case "":
		c.Security = SecuritySTARTTLS
	case SecuritySTARTTLS, SecurityTLS:
	case SecurityNone:
		if !isLoopback(s.Host) {
			errs.Add("security", "none (clear text) is only allowed for a server on a loopback address; use starttls or tls")
		}
	default:
		errs.Add("security", "must be starttls, tls or none")
	}
	if c.Port == 0 {
		c.Port = map[string]int{SecuritySTARTTLS: 587, SecurityTLS: 465, SecurityNone: 25}[c.Security]
	} else if c.Port < 1 || c.Port > 65535 {
		errs.Add("port", "must be between 1 and 65535")
	}
	if s.CACert != "" {
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM([]byte(s.CACert)) {
			errs.Add("ca_cert", "must hold PEM certificates")
		}
		c.roots = roots
	}
	if (s.Username == "") != (s.Password == "") {
		errs.Add("password", "and username must be set together")
	}
	switch c.Auth {
	case "":
		c.Auth = AuthPlain
	case AuthPlain, AuthLogin:
	default:
		errs.Add("auth", "must be plain or login")
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		errs.Add("from", "must be an e-mail address")
	}
	c.from = from
	if len(s.To) == 0 || len(s.To) > MaxRecipients {
		errs.Add("to", fmt.Sprintf("must list 1 to %d addresses", MaxRecipients))
	}
	for i, a := range s.To {
		to, err := mail.ParseAddress(a)
		if err != nil {
			errs.Add("to["+strconv.Itoa(i)+"]", "must be an e-mail address")
			continue
		}
		c.to = append(c.to, to)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c.addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	return c, nil
}

// isLoopback reports whether host names the local machine: "localhost"
// or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
