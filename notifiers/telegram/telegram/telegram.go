// Package telegram implements notifier.telegram: a Telegram bot sends each
// event to a chat (optionally a forum topic) with the Bot API's sendMessage,
// formatted with parse_mode HTML and kept within the 4096-character limit.
// The bot token is a secret: it never appears in errors.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin's id.
const ID = "notifier.telegram"

// Version is the plugin's version.
const Version = "1.0.0"

// DefaultBaseURL is the Bot API's address.
const DefaultBaseURL = "https://api.telegram.org"

// MaxText is sendMessage's limit on a message's text after entity parsing
// (what the reader sees), counted in UTF-16 code units as Telegram does.
const MaxText = 4096

// Settings are the plugin's settings.
type Settings struct {
	BotToken        string `json:"bot_token" jsonschema:"required,title=Bot token,format=password,writeOnly=true" jsonschema_description:"The token @BotFather gave the bot (123456:ABC-...)."`
	ChatID          string `json:"chat_id" jsonschema:"required,title=Chat ID" jsonschema_description:"Numeric id of the chat (a group's starts with -100), or @username of a public channel. The bot must be a member."`
	MessageThreadID int64  `json:"message_thread_id,omitempty" jsonschema:"title=Topic (message thread) ID,minimum=1" jsonschema_description:"For forum supergroups: the topic to post in. Empty: the general topic."`
	Silent          bool   `json:"silent,omitempty" jsonschema:"title=Send silently,default=false" jsonschema_description:"Deliver messages without a notification sound."`
	BaseURL         string `json:"base_url,omitempty" jsonschema:"title=Bot API URL,format=uri,default=https://api.telegram.org" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Address of the Bot API: a self-hosted telegram-bot-api server. Default: https://api.telegram.org."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Telegram", "A Telegram bot sends events to a chat."))

var (
	tokenPattern  = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$`)
	chatIDPattern = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$`)
)

// Notifier is the Telegram notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client *httpsend.Client

	mu       sync.RWMutex
	settings *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: &httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-telegram/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: ID, Version: Version, Description: "A Telegram bot sends events to a chat or forum topic."}, nil
}

// ConfigSchema returns the settings schema.
func (n *Notifier) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure validates and applies the settings. Messages never repeat the
// token.
func (n *Notifier) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	switch {
	case s.BotToken == "":
		errs.Add("bot_token", "is required")
	case !tokenPattern.MatchString(s.BotToken):
		errs.Add("bot_token", "is not a bot token (<bot id>:<secret>, as @BotFather gives it)")
	}
	switch {
	case s.ChatID == "":
		errs.Add("chat_id", "is required")
	case !chatIDPattern.MatchString(s.ChatID):
		errs.Add("chat_id", "must be a numeric chat id or a channel's @username")
	}
	if s.MessageThreadID < 0 {
		errs.Add("message_thread_id", "must be a positive topic id")
	}
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	} else if msg := httpsend.CheckURL(s.BaseURL); msg != "" {
		errs.Add("base_url", msg)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	n.mu.Lock()
	n.settings = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Send sends the event and returns the Telegram message id.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.send(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection sends a test message to the chat.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if _, err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "The bot sent a test message to the chat."}, nil
}

// Request is sendMessage's request body.
type Request struct {
	ChatID              json.RawMessage `json:"chat_id"`
	MessageThreadID     int64           `json:"message_thread_id,omitempty"`
	Text                string          `json:"text"`
	ParseMode           string          `json:"parse_mode"`
	LinkPreviewOptions  *LinkPreview    `json:"link_preview_options,omitempty"`
	DisableNotification bool            `json:"disable_notification,omitempty"`
}

// LinkPreview are sendMessage's link preview options.
type LinkPreview struct {
	IsDisabled bool `json:"is_disabled"`
}

// response is the Bot API's answer.
type response struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Result      struct {
		MessageID int64 `json:"message_id"`
	} `json:"result"`
	Parameters struct {
		RetryAfter float64 `json:"retry_after"`
	} `json:"parameters"`
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s := n.settings
	n.mu.RUnlock()
	if s == nil {
		return "", fmt.Errorf("sending event %s: %w", ev.ID, sdk.ErrNotConfigured)
	}
	chat, _ := json.Marshal(s.ChatID)
	if _, err := strconv.ParseInt(s.ChatID, 10, 64); err == nil {
		chat = json.RawMessage(s.ChatID)
	}
	req := Request{
		ChatID: chat, MessageThreadID: s.MessageThreadID, Text: Render(ev), ParseMode: "HTML",
		LinkPreviewOptions: &LinkPreview{IsDisabled: true}, DisableNotification: s.Silent,
	}
	resp, body, err := n.client.PostJSON(ctx, s.BaseURL+"/bot"+s.BotToken+"/sendMessage", req, nil)
	var r response
	jsonErr := json.Unmarshal(body, &r)
	if err != nil {
		var ra *httpsend.RetryAfterError
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests && !errors.As(err, &ra) && r.Parameters.RetryAfter > 0 {
			err = fmt.Errorf("%w (%w)", err, &httpsend.RetryAfterError{After: time.Duration(r.Parameters.RetryAfter * float64(time.Second))})
		}
		return "", httpsend.Redact(fmt.Errorf("sending event %s to Telegram: %w", ev.ID, err), s.BotToken, botSecret(s.BotToken))
	}
	if jsonErr != nil || !r.OK {
		return "", httpsend.Redact(fmt.Errorf("sending event %s to Telegram: the Bot API did not confirm: %s: %w", ev.ID, httpsend.Truncate(r.Description, 300), sdk.ErrUnavailable), s.BotToken, botSecret(s.BotToken))
	}
	return strconv.FormatInt(r.Result.MessageID, 10), nil
}

// botSecret returns the part of a token after the bot id.
func botSecret(token string) string {
	_, secret, _ := strings.Cut(token, ":")
	return secret
}

// Escape escapes text for parse_mode HTML: &, < and > (and " for
// attribute values), the only characters the Bot API requires escaped.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// Len returns the length of visible text as Telegram counts it: UTF-16
// code units.
func Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cut truncates plain text to limit UTF-16 units, ending with an ellipsis
// when cut.
func cut(s string, limit int) string {
	if Len(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > limit-1 {
			return s[:i] + httpsend.Ellipsis
		}
		n += utf16.RuneLen(r)
	}
	return s
}

var severityEmoji = map[sdk.Severity]string{
	sdk.SeverityError:   "🔴",
	sdk.SeverityWarning: "🟡",
	sdk.SeverityInfo:    "🔵",
}

// part is a piece of the message: its HTML and the length of its visible
// text.
type part struct {
	html    string
	visible int
}

func plain(s string) part { return part{Escape(s), Len(s)} }

func wrap(tag, s string) part {
	return part{"<" + tag + ">" + Escape(s) + "</" + tag + ">", Len(s)}
}

// Render returns the HTML text of ev, at most MaxText visible units: the
// title (bold), the message, the fields, a link to berth, and a footer with
// the severity and event id that is never cut.
func Render(ev sdk.Event) string {
	emoji := severityEmoji[ev.Severity]
	if emoji == "" {
		emoji = severityEmoji[sdk.SeverityInfo]
	}
	title := wrap("b", emoji+" "+cut(ev.Title, 256))
	footer := wrap("i", cut(eventview.SeverityLabel(ev.Severity)+" · event "+ev.ID, 300))
	var linkPart part
	if strings.HasPrefix(ev.URL, "https://") || strings.HasPrefix(ev.URL, "http://") {
		linkPart = part{`<a href="` + Escape(ev.URL) + `">Open in berth</a>`, Len("Open in berth")}
	}
	const sep = 2 // the "\n\n" before each part after the first
	budget := MaxText - title.visible - sep - footer.visible
	if linkPart.html != "" {
		budget -= linkPart.visible + sep
	}
	var lines []part
	fieldsLen := 0
	for _, f := range eventview.Fields(ev) {
		name := cut(f.Name, 100) + ":"
		l := part{"<b>" + Escape(name) + "</b> " + Escape(cut(f.Value, 1024)), Len(name) + 1 + Len(cut(f.Value, 1024))}
		lines = append(lines, l)
		fieldsLen += l.visible + 1
	}
	var msg part
	if ev.Message != "" {
		// The message gets what the fields leave, but at least half.
		limit := max(budget-sep-fieldsLen, (budget-sep)/2)
		msg = plain(cut(ev.Message, limit))
		budget -= msg.visible + sep
	}
	var fields []string
	fieldsBudget := budget - sep
	for _, l := range lines {
		if l.visible+1 > fieldsBudget {
			break
		}
		fields = append(fields, l.html)
		fieldsBudget -= l.visible + 1
	}
	out := []string{title.html}
	if msg.html != "" {
		out = append(out, msg.html)
	}
	if len(fields) > 0 {
		out = append(out, strings.Join(fields, "\n"))
	}
	if linkPart.html != "" {
		out = append(out, linkPart.html)
	}
	out = append(out, footer.html)
	return strings.Join(out, "\n\n")
}
