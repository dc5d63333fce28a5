package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/berth-dev/berth/core/problem"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// assets are the embedded stylesheet and script, served with a content hash
// in their URL so browsers may cache them for good.
type assets struct {
	files map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	hash        string
}

func loadAssets() *assets {
	a := &assets{files: map[string]asset{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(fmt.Sprintf("dashboard: embedded assets: %v", err))
	}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("dashboard: embedded asset %s: %v", e.Name(), err))
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[e.Name()] = asset{body: body, contentType: ct, hash: hex.EncodeToString(sum[:6])}
	}
	return a
}

// url returns the cache-busting URL of an asset.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("dashboard: no embedded asset " + name)
	}
	return "/static/" + name + "?v=" + f.hash
}

func (d *Dashboard) serveAsset(r *request) error {
	f, ok := d.assets.files[r.c.Params("name")]
	if !ok {
		return r.c.Status(fiber.StatusNotFound).SendString("no such asset")
	}
	r.c.Set(fiber.HeaderContentType, f.contentType)
	if r.c.Query("v") == f.hash {
		r.c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		r.c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	r.c.Set(fiber.HeaderETag, `"`+f.hash+`"`)
	if r.c.Get(fiber.HeaderIfNoneMatch) == `"`+f.hash+`"` {
		return r.c.SendStatus(fiber.StatusNotModified)
	}
	return r.c.Send(f.body)
}

// pages holds every page template, parsed once at start.
type pages struct {
	byName map[string]*template.Template
}

// pageNames lists the page templates; each is executed by its file name and
// shares the layout and partials.
var pageNames = []string{"home", "project", "app", "deployment", "plugins", "plugin", "keys", "login", "setup", "error", "confirm",
	"database", "settings", "destination", "instance", "notifications", "notification",
	"alerts"} // alerts: threshold alert rules

func mustParsePages(a *assets) *pages {
	funcs := template.FuncMap{
		"asset":      a.url,
		"ago":        ago,
		"utc":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"iso":        func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"duration":   formatDuration,
		"ms":         func(ms int64) string { return formatDuration(time.Duration(ms) * time.Millisecond) },
		"short":      shortID,
		"statusText": statusText,
		"httpsText":  httpsText,
		"join":       strings.Join,
		"deref":      func(t *time.Time) time.Time { return *t },
		"bytes":      formatBytes,
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
		p.byName[name] = t
	}
	return p
}

// view is the data every page template gets.
type view struct {
	Title string
	// Nav marks the active navigation item.
	Nav   string
	User  *store.User
	CSRF  string
	Flash string
	// Layout is "app" (navigation) or "auth" (a centered card).
	Layout string
	Data   any
	forms  map[string]*form
}

// Form returns the named form's values and errors (never nil).
func (v *view) Form(name string) *form {
	if f, ok := v.forms[name]; ok {
		return f
	}
	return &form{}
}

// form is a submitted form re-rendered with its values and field errors.
type form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string
}

// V returns a submitted value.
func (f *form) V(name string) string { return f.Values[name] }

// E returns a field's error message.
func (f *form) E(name string) string { return f.Errors[name] }

// Failed reports whether the form has any error.
func (f *form) Failed() bool { return len(f.Errors) > 0 || f.Message != "" }

// invalid is a validation failure of one form field, shown next to it.
func invalid(field, format string, args ...any) *problem.Error {
	return problem.InvalidField(field, format, args...)
}

// formWith copies the submitted values of fields and attaches err to the
// field it names (or to the form).
func formWith(r *request, err error, fields ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, name := range fields {
		f.Values[name] = r.c.FormValue(name)
	}
	switch {
	case problem.IsInput(err):
		p := problem.Classify(err)
		if p.Field != "" {
			f.Errors[p.Field] = p.Message
		} else {
			f.Message = p.Message
		}
	case err != nil:
		f.Message = err.Error()
	}
	return f
}

// isInputError reports whether err is a user's mistake to show on the form
// (rather than a server failure).
func isInputError(err error) bool { return problem.IsInput(err) }

// inputStatus is the status of a form re-rendered with err: the API's
// status for the same problem (422 invalid, 409 conflict, 403 a refused
// host-level power or outbound address).
func inputStatus(err error) int { return problem.Classify(err).Status() }

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer first, so a template failure becomes
// an error page rather than half a page.
func (r *request) render(status int, page string, v *view) error {
	if v.Layout == "" {
		v.Layout = "app"
	}
	if r.p != nil {
		v.User = &r.p.User
	}
	v.CSRF = r.csrf
	if v.Flash == "" && r.c.Method() == fiber.MethodGet {
		v.Flash = r.takeFlash()
	}
	t, ok := r.d.pages.byName[page]
	if !ok {
		return fmt.Errorf("dashboard: no page template %q", page)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, page+".html", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	r.c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	r.c.Set(fiber.HeaderCacheControl, "no-store")
	return r.c.Status(status).Send(buf.Bytes())
}

// renderError shows err as a page: redirects, page errors with their
// status, and anything else as a logged 500 that reveals nothing.
func (d *Dashboard) renderError(r *request, err error) error {
	var rd *redirect
	if errors.As(err, &rd) {
		return r.c.Redirect(rd.to, fiber.StatusSeeOther)
	}
	var pe *pageError
	if !errors.As(err, &pe) {
		p := problem.Classify(err)
		pe = &pageError{status: p.Status(), title: problemTitle(p.Kind), msg: p.Error()}
		if p.Kind == problem.Internal {
			d.log.Error("page failed", "method", r.c.Method(), "path", r.c.Path(), "err", err)
			pe.msg = "The server could not complete this request; the details are in berth's log."
		}
		if p.Kind == problem.NotFound {
			pe = notFound(strings.TrimSuffix(p.Message, " not found"))
		}
	}
	v := &view{Title: pe.title, Data: pe}
	if r.p == nil {
		v.Layout = "auth"
	}
	if rerr := r.render(pe.status, "error", v); rerr != nil {
		d.log.Error("rendering the error page failed", "err", rerr)
		return r.c.Status(pe.status).SendString(pe.title + ": " + pe.msg)
	}
	return nil
}

// Title and Message expose a pageError to the error template.
func (e *pageError) Title() string { return e.title }

// Message is the explanation shown on the error page.
func (e *pageError) Message() string { return e.msg }

// Status is the HTTP status of the error page.
func (e *pageError) Status() int { return e.status }

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// formatDuration renders a duration for people: 850 ms, 12.4 s, 3 min 5 s.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

func shortID(id fmt.Stringer) string {
	s := id.String()
	if len(s) > 8 {
		return s[len(s)-8:]
	}
	return s
}

// problemTitle is the heading of an error page showing a problem of kind.
func problemTitle(k problem.Kind) string {
	switch k {
	case problem.Invalid, problem.BadRequest:
		return "Invalid input"
	case problem.NotFound:
		return "Not found"
	case problem.Forbidden:
		return "Not allowed"
	case problem.Conflict:
		return "Conflict"
	case problem.Unavailable:
		return "Unavailable"
	case problem.BadGateway:
		return "Not done"
	case problem.Unauthenticated:
		return "Sign in required"
	}
	return "Something went wrong"
}
