package mail

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
)

//go:embed templates
var templateFiles embed.FS

// The kinds of message, each a pair of templates: KIND.txt and KIND.html.
const (
	kindPasswordReset   = "password_reset"
	kindVerifyEmail     = "verify_email"
	kindPasswordChanged = "password_changed"
	kindEmailChanged    = "email_changed"

	kindTotpEnabled              = "totp_enabled"
	kindTotpDisabled             = "totp_disabled"
	kindRecoveryCodeUsed         = "recovery_code_used"
	kindRecoveryCodesRegenerated = "recovery_codes_regenerated"
	kindNewSignIn                = "new_sign_in"
	kindPasskeyAdded             = "passkey_added"
)

// kinds lists every kind, for NewTemplates to parse.
var kinds = []string{
	kindPasswordReset, kindVerifyEmail, kindPasswordChanged, kindEmailChanged,
	kindTotpEnabled, kindTotpDisabled, kindRecoveryCodeUsed, kindRecoveryCodesRegenerated, kindNewSignIn,
	kindPasskeyAdded,
}

// Templates renders the application's messages. Every message has a text
// and an HTML body; links point into the web app at appURL. It is safe for
// concurrent use.
type Templates struct {
	appName string
	appURL  string // without a trailing slash
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
}

// NewTemplates parses the embedded templates once. appName appears in
// subjects and bodies; appURL is the web app's base URL (http or https, a
// path allowed, a trailing slash tolerated), to which links add
// /reset-password, /verify-email and /forgot-password.
func NewTemplates(appName, appURL string) (*Templates, error) {
	if appName == "" || strings.ContainsFunc(appName, unicode.IsControl) {
		return nil, fmt.Errorf("mail templates: app name %q: empty or has control characters", appName)
	}
	u, err := url.Parse(appURL)
	if err != nil {
		return nil, fmt.Errorf("mail templates: app URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("mail templates: app URL %q: want http(s)://host[/path], without query, fragment or user", appURL)
	}
	t := &Templates{
		appName: appName,
		appURL:  strings.TrimRight(appURL, "/"),
		text:    map[string]*texttemplate.Template{},
		html:    map[string]*htmltemplate.Template{},
	}
	for _, kind := range kinds {
		text, err := texttemplate.New(kind+".txt").Option("missingkey=error").
			ParseFS(templateFiles, "templates/footer.txt", "templates/"+kind+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		html, err := htmltemplate.New("layout").Option("missingkey=error").
			ParseFS(templateFiles, "templates/layout.html", "templates/"+kind+".html")
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		t.text[kind], t.html[kind] = text, html
	}
	return t, nil
}

// templateData is what every template may use.
type templateData struct {
	AppName   string
	AppURL    string
	Subject   string
	Name      string // the user's name, may be empty
	Link      string // the action link, with its token
	Expires   string // the link's lifetime, for people: "30 minutes"
	At        string // when a change happened, in UTC
	NewEmail  string
	ForgotURL string
	Device    string // the browser of a sign-in: "Firefox on Linux"
	IP        string // the client address of a sign-in, may be empty
	Remaining int    // recovery codes left
}

// PasswordReset is the message with a link to choose a new password,
// valid for ttl. An unwanted request can be ignored, and the message says
// so.
func (t *Templates) PasswordReset(to, name, token string, ttl time.Duration) (Message, error) {
	if token == "" {
		return Message{}, errors.New("render password reset: empty token")
	}
	return t.render(kindPasswordReset, to, "Reset your "+t.appName+" password", templateData{
		Name:    name,
		Link:    t.link("/reset-password", token),
		Expires: humanDuration(ttl),
	})
}

// VerifyEmail is the message with a link that proves the address is the
// user's, valid for ttl.
func (t *Templates) VerifyEmail(to, name, token string, ttl time.Duration) (Message, error) {
	if token == "" {
		return Message{}, errors.New("render email verification: empty token")
	}
	return t.render(kindVerifyEmail, to, "Verify your "+t.appName+" email address", templateData{
		Name:    name,
		Link:    t.link("/verify-email", token),
		Expires: humanDuration(ttl),
	})
}

// PasswordChanged is the notice that the password was changed at at,
// telling a user who did not do it to reset the password.
func (t *Templates) PasswordChanged(to, name string, at time.Time) (Message, error) {
	return t.render(kindPasswordChanged, to, "Your "+t.appName+" password was changed", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
	})
}

// EmailChanged is the notice sent to the old address when the account's
// address became newEmail at at. A reset link would now go to the new
// address, so it tells a user who did not do it to contact the team.
func (t *Templates) EmailChanged(to, name, newEmail string, at time.Time) (Message, error) {
	return t.render(kindEmailChanged, to, "Your "+t.appName+" email was changed", templateData{
		Name:     name,
		At:       humanTime(at),
		NewEmail: newEmail,
	})
}

// PasskeyAdded is the notice that a passkey named device was added at
// at: one signs in without the password, so a user who did not add it is
// told to remove it and reset the password.
func (t *Templates) PasskeyAdded(to, name, device string, at time.Time) (Message, error) {
	return t.render(kindPasskeyAdded, to, "A passkey was added to your "+t.appName+" account", templateData{
		Name:      name,
		Device:    device,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
	})
}

// TotpEnabled is the notice that two-step sign-in (TOTP) was turned on at
// at. Someone who did that can lock the user out, so it tells a user who
// did not do it to contact the team.
func (t *Templates) TotpEnabled(to, name string, at time.Time) (Message, error) {
	return t.render(kindTotpEnabled, to, "Two-step sign-in was turned on for your "+t.appName+" account", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
	})
}

// TotpDisabled is the notice that two-step sign-in was turned off at at,
// telling a user who did not do it to reset the password.
func (t *Templates) TotpDisabled(to, name string, at time.Time) (Message, error) {
	return t.render(kindTotpDisabled, to, "Two-step sign-in was turned off for your "+t.appName+" account", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
	})
}

// RecoveryCodeUsed is the notice that a recovery code stood in for a TOTP
// code in a sign-in at at, saying how many codes are left (remaining, at
// least 0) and, when none are, to make new ones.
func (t *Templates) RecoveryCodeUsed(to, name string, at time.Time, remaining int) (Message, error) {
	if remaining < 0 {
		return Message{}, fmt.Errorf("render recovery code used: %d codes left", remaining)
	}
	return t.render(kindRecoveryCodeUsed, to, "A recovery code was used to sign in to your "+t.appName+" account", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
		Remaining: remaining,
	})
}

// RecoveryCodesRegenerated is the notice that new recovery codes replaced
// the old ones at at, telling a user who did not do it to reset the
// password.
func (t *Templates) RecoveryCodesRegenerated(to, name string, at time.Time) (Message, error) {
	return t.render(kindRecoveryCodesRegenerated, to, "New recovery codes were made for your "+t.appName+" account", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
	})
}

// NewSignIn is the notice of a sign-in at at from device (as
// DescribeBrowser says it: "Firefox on Linux"; "" is an unknown browser)
// at the client address ip (may be empty). It tells a user who did not
// sign in to reset the password, which signs out every device. The
// subject does not name the device.
func (t *Templates) NewSignIn(to, name, device, ip string, at time.Time) (Message, error) {
	if device == "" {
		device = unknownBrowser
	}
	return t.render(kindNewSignIn, to, "New sign-in to your "+t.appName+" account", templateData{
		Name:      name,
		At:        humanTime(at),
		ForgotURL: t.appURL + "/forgot-password",
		Device:    device,
		IP:        ip,
	})
}

// link is APP_URL + path + ?token=…, the token query-escaped.
func (t *Templates) link(path, token string) string {
	return t.appURL + path + "?token=" + url.QueryEscape(token)
}

// render runs both templates of kind. The subject holds no user input:
// only the app name, which NewTemplates checked.
func (t *Templates) render(kind, to, subject string, d templateData) (Message, error) {
	if to == "" {
		return Message{}, fmt.Errorf("render %s: no recipient", kind)
	}
	d.AppName, d.AppURL, d.Subject = t.appName, t.appURL, subject
	var text, html strings.Builder
	if err := t.text[kind].Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("render %s text: %w", kind, err)
	}
	if err := t.html[kind].ExecuteTemplate(&html, "layout", d); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// humanTime is at in UTC, as a person reads it: the reader's zone is not
// known.
func humanTime(at time.Time) string {
	return at.UTC().Format("2 January 2006 at 15:04 UTC")
}

// humanDuration says d in at most its two largest units, rounded down (a
// link should not be said to last longer than it does): "30 minutes",
// "1 hour and 30 minutes", "24 hours", "3 days". Days are used from 48
// hours on, since "24 hours" reads more precisely than "1 day".
func humanDuration(d time.Duration) string {
	if d < time.Second {
		return "less than a second"
	}
	units := []struct {
		size time.Duration
		name string
	}{
		{24 * time.Hour, "day"},
		{time.Hour, "hour"},
		{time.Minute, "minute"},
		{time.Second, "second"},
	}
	if d < 48*time.Hour {
		units = units[1:]
	}
	var parts []string
	for _, u := range units {
		n := d / u.size
		if n == 0 {
			if len(parts) > 0 {
				break // "1 hour and 5 seconds" would skip the minutes
			}
			continue
		}
		d -= n * u.size
		part := fmt.Sprintf("%d %s", n, u.name)
		if n != 1 {
			part += "s"
		}
		parts = append(parts, part)
		if len(parts) == 2 {
			break
		}
	}
	return strings.Join(parts, " and ")
}
