package mail

import (
	"html"
	"strings"
	"testing"
	"time"
)

func newTemplates(t *testing.T, appURL string) *Templates {
	t.Helper()
	tpl, err := NewTemplates("Flashcards", appURL)
	if err != nil {
		t.Fatalf("NewTemplates: %v", err)
	}
	return tpl
}

func TestLinksCarryTheEscapedTokenUnderAppURL(t *testing.T) {
	t.Parallel()
	const token = "a+b/c=d&e f"
	const escaped = "a%2Bb%2Fc%3Dd%26e+f"
	tests := []struct {
		name    string
		appURL  string
		render  func(*Templates) (Message, error)
		wantURL string
	}{
		{"reset", "https://app.example.com",
			func(tp *Templates) (Message, error) {
				return tp.PasswordReset("a@example.com", "Al", token, 30*time.Minute)
			},
			"https://app.example.com/reset-password?token=" + escaped},
		{"reset, trailing slash", "https://app.example.com/",
			func(tp *Templates) (Message, error) {
				return tp.PasswordReset("a@example.com", "Al", token, 30*time.Minute)
			},
			"https://app.example.com/reset-password?token=" + escaped},
		{"verify, base path", "http://localhost:5173/app/",
			func(tp *Templates) (Message, error) {
				return tp.VerifyEmail("a@example.com", "Al", token, 24*time.Hour)
			},
			"http://localhost:5173/app/verify-email?token=" + escaped},
		{"verify", "https://app.example.com",
			func(tp *Templates) (Message, error) {
				return tp.VerifyEmail("a@example.com", "Al", token, 24*time.Hour)
			},
			"https://app.example.com/verify-email?token=" + escaped},
		{"password changed", "https://app.example.com/",
			func(tp *Templates) (Message, error) {
				return tp.PasswordChanged("a@example.com", "Al", time.Now())
			},
			"https://app.example.com/forgot-password"},
		{"two-step sign-in off", "https://app.example.com/",
			func(tp *Templates) (Message, error) {
				return tp.TotpDisabled("a@example.com", "Al", time.Now())
			},
			"https://app.example.com/forgot-password"},
		{"recovery code used", "http://localhost:5173/app/",
			func(tp *Templates) (Message, error) {
				return tp.RecoveryCodeUsed("a@example.com", "Al", time.Now(), 3)
			},
			"http://localhost:5173/app/forgot-password"},
		{"recovery codes regenerated", "https://app.example.com",
			func(tp *Templates) (Message, error) {
				return tp.RecoveryCodesRegenerated("a@example.com", "Al", time.Now())
			},
			"https://app.example.com/forgot-password"},
		{"new sign-in", "https://app.example.com/",
			func(tp *Templates) (Message, error) {
				return tp.NewSignIn("a@example.com", "Al", "Firefox on Linux", "203.0.113.7", time.Now())
			},
			"https://app.example.com/forgot-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.render(newTemplates(t, tt.appURL))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if !strings.Contains(m.Text, "\n"+tt.wantURL+"\n") {
				t.Errorf("text lacks %s on a line of its own:\n%s", tt.wantURL, m.Text)
			}
			// html/template writes some characters as entities (+ as &#43;).
			if !strings.Contains(html.UnescapeString(m.HTML), `href="`+tt.wantURL+`"`) {
				t.Errorf("HTML lacks href=%q:\n%s", tt.wantURL, m.HTML)
			}
			if strings.Contains(m.Text, "//reset") || strings.Contains(m.Text, "//verify") || strings.Contains(m.Text, "//forgot") {
				t.Errorf("doubled slash in:\n%s", m.Text)
			}
		})
	}
}

func TestSubjectsNameTheAppAndTheChangeOnly(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	const name = "Mallory <b>\r\nBcc: x@evil.example"
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		render func() (Message, error)
		want   string
	}{
		{func() (Message, error) { return tpl.PasswordReset("a@example.com", name, "tok", time.Hour) }, "Reset your Flashcards password"},
		{func() (Message, error) { return tpl.VerifyEmail("a@example.com", name, "tok", time.Hour) }, "Verify your Flashcards email address"},
		{func() (Message, error) { return tpl.PasswordChanged("a@example.com", name, at) }, "Your Flashcards password was changed"},
		{func() (Message, error) { return tpl.EmailChanged("a@example.com", name, "new@example.com", at) }, "Your Flashcards email was changed"},
		{func() (Message, error) { return tpl.TotpEnabled("a@example.com", name, at) }, "Two-step sign-in was turned on for your Flashcards account"},
		{func() (Message, error) { return tpl.TotpDisabled("a@example.com", name, at) }, "Two-step sign-in was turned off for your Flashcards account"},
		{func() (Message, error) { return tpl.RecoveryCodeUsed("a@example.com", name, at, 0) }, "A recovery code was used to sign in to your Flashcards account"},
		{func() (Message, error) { return tpl.RecoveryCodesRegenerated("a@example.com", name, at) }, "New recovery codes were made for your Flashcards account"},
		{func() (Message, error) {
			return tpl.NewSignIn("a@example.com", name, "Firefox on Linux\r\nBcc: x@evil.example", "203.0.113.7", at)
		}, "New sign-in to your Flashcards account"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			m, err := tt.render()
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if m.Subject != tt.want {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.want)
			}
			if m.To != "a@example.com" || m.ID != "" {
				t.Errorf("To %q, ID %q", m.To, m.ID)
			}
			if m.Text == "" || m.HTML == "" {
				t.Errorf("text %d bytes, HTML %d bytes", len(m.Text), len(m.HTML))
			}
		})
	}
}

func TestHTMLEscapesUserInput(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	const name = `<script>alert("x")</script> & Co`
	const newEmail = `"<img src=x>"@example.com`
	m, err := tpl.EmailChanged("old@example.com", name, newEmail, time.Now())
	if err != nil {
		t.Fatalf("EmailChanged: %v", err)
	}
	for _, raw := range []string{"<script>", "<img"} {
		if strings.Contains(m.HTML, raw) {
			t.Errorf("HTML contains %q unescaped:\n%s", raw, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") {
		t.Errorf("HTML lacks the escaped name:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Hello "+name+",") || !strings.Contains(m.Text, newEmail) {
		t.Errorf("text lacks the name or new address as given:\n%s", m.Text)
	}
}

func TestBodiesSayWhatToDo(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name   string
		render func() (Message, error)
		want   []string
	}{
		{"reset", func() (Message, error) { return tpl.PasswordReset("a@example.com", "Al", "tok", 30*time.Minute) },
			[]string{"Hello Al,", "expires in 30 minutes", "If you did not ask for this, you can ignore this email"}},
		{"verify", func() (Message, error) { return tpl.VerifyEmail("a@example.com", "", "tok", 24*time.Hour) },
			[]string{"Hello,", "expires in 24 hours"}},
		{"password changed", func() (Message, error) { return tpl.PasswordChanged("a@example.com", "Al", at) },
			[]string{"4 March 2026 at 04:06 UTC", "If it was not you", "https://app.example.com/forgot-password"}},
		{"email changed", func() (Message, error) { return tpl.EmailChanged("old@example.com", "Al", "new@example.com", at) },
			[]string{"4 March 2026 at 04:06 UTC", "to new@example.com", "If it was not you", "https://app.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.render()
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
				if !strings.Contains(m.HTML, strings.ReplaceAll(want, "to new@", "to <strong>new@")) {
					t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
				}
			}
		})
	}
}

func TestSecurityNoticesSayWhatHappenedAndWhatToDo(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	const when = "4 March 2026 at 04:06 UTC"
	const reset = "https://app.example.com/forgot-password"
	tests := []struct {
		name       string
		render     func() (Message, error)
		text, html []string // html defaults to text
		not        []string
	}{
		{"two-step sign-in on", func() (Message, error) { return tpl.TotpEnabled("a@example.com", "Al", at) },
			[]string{"Hello Al,", "Two-step sign-in was turned on", "on " + when, "If it was not you", "Contact the Flashcards team", "https://app.example.com"}, nil,
			[]string{"forgot-password"}},
		{"two-step sign-in off", func() (Message, error) { return tpl.TotpDisabled("a@example.com", "", at) },
			[]string{"Hello,", "Two-step sign-in was turned off", "on " + when, "If it was not you", reset, "turn two-step sign-in on again"}, nil, nil},
		{"recovery code used, 3 left", func() (Message, error) { return tpl.RecoveryCodeUsed("a@example.com", "Al", at, 3) },
			[]string{"A recovery code was used", "on " + when, "You have 3 recovery codes left.", "If it was not you", reset}, nil,
			[]string{"no recovery codes left"}},
		{"recovery code used, 1 left", func() (Message, error) { return tpl.RecoveryCodeUsed("a@example.com", "Al", at, 1) },
			[]string{"You have 1 recovery code left."}, nil, nil},
		{"recovery code used, none left", func() (Message, error) { return tpl.RecoveryCodeUsed("a@example.com", "Al", at, 0) },
			[]string{"You have no recovery codes left: make new ones"},
			[]string{"<strong>You have no recovery codes left</strong>: make new ones"},
			[]string{"0 recovery codes"}},
		{"recovery codes regenerated", func() (Message, error) { return tpl.RecoveryCodesRegenerated("a@example.com", "Al", at) },
			[]string{"New recovery codes were made", "on " + when, "The old ones no longer work.", "If it was not you", reset}, nil, nil},
		{"new sign-in", func() (Message, error) {
			return tpl.NewSignIn("a@example.com", "Al", "Firefox on Linux", "203.0.113.7", at)
		},
			[]string{"There was a new sign-in to your Flashcards account from Firefox on Linux, 203.0.113.7, on " + when, "If it was not you", reset, "signs out every device", "review the devices"},
			[]string{"from <strong>Firefox on Linux</strong>, 203.0.113.7, on " + when, "If it was not you", reset, "signs out every device", "review the devices"},
			nil},
		{"new sign-in without address or device", func() (Message, error) { return tpl.NewSignIn("a@example.com", "Al", "", "", at) },
			[]string{"from an unknown browser on " + when},
			[]string{"from <strong>an unknown browser</strong> on " + when},
			[]string{", ,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.render()
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if tt.html == nil {
				tt.html = tt.text
			}
			for _, want := range tt.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			for _, want := range tt.html {
				if !strings.Contains(html.UnescapeString(m.HTML), want) {
					t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(m.Text, not) || strings.Contains(m.HTML, not) {
					t.Errorf("message has %q:\n%s\n%s", not, m.Text, m.HTML)
				}
			}
			if !strings.HasSuffix(m.Text, "replies are not read.\n") {
				t.Errorf("text does not end with the footer:\n%q", m.Text)
			}
		})
	}
}

func TestSignInNoticeEscapesItsDetailsInHTML(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	m, err := tpl.NewSignIn("a@example.com", "<b>Al</b>", "<i>Chrome</i>", "<img src=x>", time.Now())
	if err != nil {
		t.Fatalf("NewSignIn: %v", err)
	}
	for _, raw := range []string{"<b>", "<i>", "<img"} {
		if strings.Contains(m.HTML, raw) {
			t.Errorf("HTML contains %q unescaped:\n%s", raw, m.HTML)
		}
	}
}

func TestTemplatesRefuseMissingInput(t *testing.T) {
	t.Parallel()
	tpl := newTemplates(t, "https://app.example.com")
	tests := []struct {
		name   string
		render func() (Message, error)
	}{
		{"reset without token", func() (Message, error) { return tpl.PasswordReset("a@example.com", "Al", "", time.Hour) }},
		{"verify without token", func() (Message, error) { return tpl.VerifyEmail("a@example.com", "Al", "", time.Hour) }},
		{"notice without recipient", func() (Message, error) { return tpl.PasswordChanged("", "Al", time.Now()) }},
		{"sign-in notice without recipient", func() (Message, error) { return tpl.NewSignIn("", "Al", "curl", "", time.Now()) }},
		{"negative codes left", func() (Message, error) { return tpl.RecoveryCodeUsed("a@example.com", "Al", time.Now(), -1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.render(); err == nil {
				t.Error("render succeeded")
			}
		})
	}
}

func TestNewTemplatesRejectsBadSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, appName, appURL string
	}{
		{"empty name", "", "https://app.example.com"},
		{"newline in name", "App\r\nBcc: x@example.com", "https://app.example.com"},
		{"relative URL", "App", "/app"},
		{"other scheme", "App", "javascript://app.example.com"},
		{"query", "App", "https://app.example.com/?x=1"},
		{"fragment", "App", "https://app.example.com/#x"},
		{"no host", "App", "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewTemplates(tt.appName, tt.appURL); err == nil {
				t.Errorf("NewTemplates(%q, %q) succeeded", tt.appName, tt.appURL)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{500 * time.Millisecond, "less than a second"},
		{time.Second, "1 second"},
		{45 * time.Second, "45 seconds"},
		{61 * time.Second, "1 minute and 1 second"},
		{30 * time.Minute, "30 minutes"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour and 30 minutes"},
		{time.Hour + 5*time.Second, "1 hour"},
		{24 * time.Hour, "24 hours"},
		{36*time.Hour + 59*time.Second, "36 hours"},
		{72 * time.Hour, "3 days"},
		{49 * time.Hour, "2 days and 1 hour"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.d); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
