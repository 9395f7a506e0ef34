package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/smtptest"
)

// Account recovery and email verification (docs/API.md), against a real
// SMTP server over TCP (internal/smtptest).

const (
	appURL                  = "http://app.test:5173"
	requestResetMutation    = `mutation($e: String!) { requestPasswordReset(email: $e) }`
	resetPasswordMutation   = `mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { id email emailVerified } }`
	verifyEmailMutation     = `mutation($t: String!) { verifyEmail(token: $t) { id email emailVerified } }`
	resendMutation          = `mutation { resendVerificationEmail }`
	meVerifiedQuery         = `{ me { id email emailVerified } }`
	updateEmailMutation     = `mutation($i: UpdateMeInput!) { updateMe(input: $i) { id email emailVerified } }`
	resetLinkPrefix         = appURL + "/reset-password?token="
	verifyLinkPrefix        = appURL + "/verify-email?token="
	subjectPasswordChanged  = "password was changed"
	subjectEmailChanged     = "email was changed"
	subjectVerify           = "Verify"
	subjectReset            = "Reset"
	mailWithin              = 5 * time.Second
	noMailWithin            = 1500 * time.Millisecond
	defaultMailEnvAppURLKey = "APP_URL"
)

type verifiedUser struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"emailVerified"`
}

// startMailServer starts an SMTP server and the server mailing to it.
func startMailServer(t *testing.T, env map[string]string) (*testServer, *smtptest.Server) {
	t.Helper()
	smtp := smtptest.Start(t)
	all := map[string]string{"SMTP_URL": smtp.URL(), defaultMailEnvAppURLKey: appURL, "MAIL_FROM": "no-reply@app.test", "APP_NAME": "Flashcards"}
	for k, v := range env {
		all[k] = v
	}
	return startServer(t, all), smtp
}

// waitMail returns the first message to addr whose subject contains
// subject, arrived after the first skip such messages, failing t after
// within.
func waitMail(t *testing.T, smtp *smtptest.Server, addr, subject string, skip int, within time.Duration) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var seen int
		for _, m := range smtp.Messages() {
			if slices.Contains(m.To, addr) && strings.Contains(m.Subject, subject) {
				if seen == skip {
					return m
				}
				seen++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail %q #%d to %s within %v; got %s", subject, skip+1, addr, within, describeMail(smtp.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mailsTo counts the messages to addr whose subject contains subject.
func mailsTo(smtp *smtptest.Server, addr, subject string) int {
	n := 0
	for _, m := range smtp.Messages() {
		if slices.Contains(m.To, addr) && strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

func describeMail(ms []smtptest.Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "\n  %v %q", m.To, m.Subject)
	}
	return b.String()
}

// tokenOf returns the token of the message's link that starts with prefix.
func tokenOf(t *testing.T, m smtptest.Message, prefix string) string {
	t.Helper()
	u, err := url.Parse(m.Link(t, prefix))
	if err != nil {
		t.Fatalf("link in %q: %v", m.Subject, err)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatalf("link in %q has no token", m.Subject)
	}
	return tok
}

// gqlFrom is tryGQL from a client address, as a trusted proxy reports it
// (TRUSTED_PROXIES=127.0.0.1/32).
func (ts *testServer) gqlFrom(c *http.Client, ip, query string, vars map[string]any) (gqlResponse, error) {
	return ts.tryGQLWith(c, http.Header{"X-Forwarded-For": {ip}}, query, vars)
}

// requestReset asks for a reset link for email and checks the answer is true.
func (ts *testServer) requestReset(t *testing.T, email string) {
	t.Helper()
	r := ts.gql(t, ts.client(t), requestResetMutation, map[string]any{"e": email})
	var ok bool
	r.decode(t, "requestPasswordReset", &ok)
	if !ok || len(r.Errors) > 0 {
		t.Fatalf("requestPasswordReset(%s) = %v %+v", email, ok, r.Errors)
	}
}

func resetVars(token, password string) map[string]any {
	return map[string]any{"i": map[string]any{"token": token, "newPassword": password}}
}

func expectBadToken(t *testing.T, what string, r gqlResponse) {
	t.Helper()
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "token" {
		t.Fatalf("%s: %+v, want BAD_USER_INPUT on field token", what, r.Errors)
	}
}

func TestPasswordResetEndsEverySessionAndSignsThisBrowserIn(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	owner := ts.client(t)
	u, old := ts.register(t, owner)
	ws := ts.subscribeSessionEnded(t, ts.sessionCookie(t, owner), "ended")

	requested := time.Now()
	ts.requestReset(t, u.Email)
	m := waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin)
	t.Logf("the reset mail arrived %v after the request", m.At.Sub(requested).Round(time.Millisecond))
	if m.HTML == "" || !strings.Contains(m.HTML, "reset-password?token=") {
		t.Errorf("the reset mail has no HTML part with the link")
	}
	token := tokenOf(t, m, resetLinkPrefix)

	browser := ts.client(t) // the browser the link was opened in
	next := "a fresh passphrase " + randomHex(4)
	r := ts.gql(t, browser, resetPasswordMutation, resetVars(token, next))
	var got verifiedUser
	r.decode(t, "resetPassword", &got)
	if got.ID != u.ID || !got.EmailVerified {
		t.Fatalf("resetPassword = %+v, want the user with emailVerified (the link proved the address)", got)
	}
	ws.expectSessionEnded("ended", "PASSWORD_CHANGED", 5*time.Second)
	if me := ts.me(t, owner); me != nil {
		t.Fatalf("the session from before the reset still signs in as %s", me.Email)
	}
	if me := ts.me(t, browser); me == nil || me.ID != u.ID {
		t.Fatalf("the browser that reset is signed in as %+v, want %s", me, u.ID)
	}
	if list := ts.sessions(t, browser); len(list) != 1 {
		t.Fatalf("%d sessions after the reset, want only the resetting browser's", len(list))
	}
	login := func(pw string) gqlResponse {
		return ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	}
	if r := login(old); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("login with the old password: %+v", r.Errors)
	}
	if r := login(next); len(r.Errors) > 0 {
		t.Fatalf("login with the new password: %+v", r.Errors)
	}
	waitMail(t, smtp, u.Email, subjectPasswordChanged, 0, mailWithin)
}

func TestResetTokensWorkOnceAndOnlyTheNewest(t *testing.T) {
	ts, smtp := startMailServer(t, map[string]string{"PASSWORD_RESET_TTL": "2s"})
	u, _ := ts.register(t, ts.client(t))
	reset := func(token, pw string) gqlResponse {
		return ts.gql(t, ts.client(t), resetPasswordMutation, resetVars(token, pw))
	}

	// An older link after a newer request.
	ts.requestReset(t, u.Email)
	first := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin), resetLinkPrefix)
	ts.requestReset(t, u.Email)
	second := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 1, mailWithin), resetLinkPrefix)
	expectBadToken(t, "the older link after a newer request", reset(first, "older link passphrase "+randomHex(3)))

	// A weak password is refused without using the link up.
	if r := reset(second, "password"); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
		t.Fatalf("a weak new password: %+v, want BAD_USER_INPUT on newPassword", r.Errors)
	}
	if r := reset(second, "newest link passphrase "+randomHex(3)); len(r.Errors) > 0 {
		t.Fatalf("the newest link after a refused password: %+v", r.Errors)
	}
	expectBadToken(t, "a used link", reset(second, "used link passphrase "+randomHex(3)))

	// Garbage, another purpose's token, and an expired link.
	for _, bad := range []string{"", "x", strings.Repeat("A", 64), second + "A", "$where: 1"} {
		expectBadToken(t, fmt.Sprintf("token %q", bad), reset(bad, "garbage token passphrase"))
	}
	ts.requestReset(t, u.Email)
	third := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 2, mailWithin), resetLinkPrefix)
	time.Sleep(2500 * time.Millisecond)
	expectBadToken(t, "an expired link (PASSWORD_RESET_TTL=2s)", reset(third, "expired link passphrase "+randomHex(3)))
}

func TestResetTokenIsSpentOnceUnderConcurrency(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	u, _ := ts.register(t, ts.client(t))
	ts.requestReset(t, u.Email)
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin), resetLinkPrefix)
	const n = 16
	rs, errs := make([]gqlResponse, n), make([]error, n)
	browsers := make([]*http.Client, n)
	startTogether(n, func(i int) {
		browsers[i] = jarClient()
		rs[i], errs[i] = ts.tryGQL(browsers[i], resetPasswordMutation, resetVars(token, fmt.Sprintf("concurrent reset %d %s", i, randomHex(3))))
	})
	won := -1
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("#%d: %v", i, errs[i])
		case len(rs[i].Errors) == 0:
			if won >= 0 {
				t.Errorf("#%d and #%d both reset the password with one link", won, i)
			}
			won = i
		case rs[i].code() != "BAD_USER_INPUT":
			t.Errorf("#%d: %+v", i, rs[i].Errors)
		}
	}
	if won < 0 {
		t.Fatal("no reset succeeded")
	}
	for i, b := range browsers {
		if me := ts.me(t, b); (me != nil) != (i == won) {
			t.Errorf("browser #%d signed in: %v; only the winner (#%d) should be", i, me != nil, won)
		}
	}
}

func TestResetRacingLoginWithOldPasswordLeavesNoSession(t *testing.T) {
	ts, smtp := startMailServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "1000", "LOGIN_LIMIT_PER_IP": "1000"})
	u, old := ts.register(t, ts.client(t))
	ts.requestReset(t, u.Email)
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin), resetLinkPrefix)

	const attackers = 16
	resetter := jarClient()
	var reset gqlResponse
	var resetErr error
	resetDone := make(chan struct{})
	var mu sync.Mutex
	var winners []*http.Client
	late := 0
	startTogether(1+attackers, func(i int) {
		if i == 0 {
			reset, resetErr = ts.tryGQL(resetter, resetPasswordMutation, resetVars(token, "the reset passphrase "+randomHex(3)))
			close(resetDone)
			return
		}
		for {
			after := false
			select {
			case <-resetDone:
				after = true
			default:
			}
			c := jarClient()
			r, err := ts.tryGQL(c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": old}})
			mu.Lock()
			if err == nil && len(r.Errors) == 0 {
				winners = append(winners, c)
			}
			if after {
				late++
				if err != nil || r.code() != "INVALID_CREDENTIALS" {
					t.Errorf("a login with the old password started after the reset returned: %v %+v", err, r.Errors)
				}
			}
			mu.Unlock()
			if after {
				return
			}
		}
	})
	if resetErr != nil || len(reset.Errors) > 0 {
		t.Fatalf("resetPassword: %v %+v", resetErr, reset.Errors)
	}
	for _, c := range winners {
		if me := ts.me(t, c); me != nil {
			t.Errorf("a login with the old password holds a live session after the reset returned")
		}
	}
	if list := ts.sessions(t, resetter); len(list) != 1 || !list[0].Current {
		t.Errorf("the user has %d sessions after the reset, want only the resetting browser's", len(list))
	}
	t.Logf("%d logins with the old password succeeded before the reset, %d started after it", len(winners), late)
}

func TestResetEndsSocketsOnEveryInstance(t *testing.T) {
	a, smtp := startMailServer(t, nil)
	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"], "SMTP_URL": smtp.URL(), "APP_URL": appURL})
	onA, onB := a.client(t), b.client(t)
	u, pw := a.register(t, onA)
	if r := b.gql(t, onB, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	wsA := a.subscribeSessionEnded(t, a.sessionCookie(t, onA), "a")
	wsB := b.subscribeSessionEnded(t, b.sessionCookie(t, onB), "b")
	a.requestReset(t, u.Email)
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin), resetLinkPrefix)
	if r := b.gql(t, b.client(t), resetPasswordMutation, resetVars(token, "reset on b "+randomHex(4))); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	wsA.expectSessionEnded("a", "PASSWORD_CHANGED", 5*time.Second)
	wsB.expectSessionEnded("b", "PASSWORD_CHANGED", 5*time.Second)
}

func TestRequestPasswordResetRevealsNothing(t *testing.T) {
	ts, smtp := startMailServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32", "REGISTER_LIMIT_PER_IP": "1000"})
	const n = 15
	known := make([]string, n)
	for i := range known {
		u, _ := ts.register(t, ts.client(t))
		known[i] = u.Email
	}
	waitAll := time.Now().Add(mailWithin)
	for _, e := range known { // the verification mail of each, so it cannot be mistaken for a reset
		waitMail(t, smtp, e, subjectVerify, 0, time.Until(waitAll))
	}
	var knownTimes, unknownTimes []time.Duration
	unknown := make([]string, n)
	for i := range n {
		unknown[i] = "nobody-" + randomHex(6) + "@example.com"
		for _, e := range []string{known[i], unknown[i]} {
			start := time.Now()
			r, err := ts.gqlFrom(ts.client(t), fmt.Sprintf("198.51.100.%d", 1+len(knownTimes)+len(unknownTimes)), requestResetMutation, map[string]any{"e": e})
			d := time.Since(start)
			if err != nil || len(r.Errors) > 0 || string(r.Data["requestPasswordReset"]) != "true" {
				t.Fatalf("requestPasswordReset(%s): %v %+v %s", e, err, r.Errors, r.Data["requestPasswordReset"])
			}
			if e == known[i] {
				knownTimes = append(knownTimes, d)
			} else {
				unknownTimes = append(unknownTimes, d)
			}
		}
	}
	mk, mu := median(knownTimes), median(unknownTimes)
	t.Logf("median answer: %v for known addresses, %v for unknown ones", mk, mu)
	if mk > 2*mu || mu > 2*mk {
		t.Errorf("medians %v (known) and %v (unknown) differ by more than 2x", mk, mu)
	}
	for _, e := range known {
		waitMail(t, smtp, e, subjectReset, 0, mailWithin)
	}
	time.Sleep(noMailWithin)
	for _, e := range unknown {
		if c := mailsTo(smtp, e, ""); c != 0 {
			t.Errorf("%d messages to the unknown address %s", c, e)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestRequestPasswordResetIsThrottledPerEmailAndPerAddress(t *testing.T) {
	ts, _ := startMailServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	tally := func(rs []gqlResponse, errs []error) map[string]int {
		t.Helper()
		out := map[string]int{}
		for i, r := range rs {
			switch {
			case errs[i] != nil:
				t.Errorf("#%d: %v", i, errs[i])
			case len(r.Errors) == 0:
				out["true"]++
			case r.code() == "RATE_LIMITED" && retryAfter(r) > 0:
				out["RATE_LIMITED"]++
			default:
				t.Errorf("#%d: %+v", i, r.Errors)
			}
		}
		return out
	}
	// Per email, an unknown one too: 3 an hour, however many arrive at once
	// from different addresses.
	for _, email := range []string{ts.mustRegister(t), "nobody-" + randomHex(6) + "@example.com"} {
		const n = 12
		rs, errs := make([]gqlResponse, n), make([]error, n)
		startTogether(n, func(i int) {
			rs[i], errs[i] = ts.gqlFrom(jarClient(), fmt.Sprintf("203.0.113.%d", 10+i), requestResetMutation, map[string]any{"e": email})
		})
		if got := tally(rs, errs); got["true"] != 3 || got["RATE_LIMITED"] != n-3 {
			t.Errorf("%d requests at once for %s: %v, want 3 true and the rest RATE_LIMITED", n, email, got)
		}
	}
	// Per client address: 10 an hour, whatever the emails.
	const n = 16
	rs, errs := make([]gqlResponse, n), make([]error, n)
	startTogether(n, func(i int) {
		rs[i], errs[i] = ts.gqlFrom(jarClient(), "192.0.2.77", requestResetMutation, map[string]any{"e": fmt.Sprintf("ip-%d-%s@example.com", i, randomHex(3))})
	})
	if got := tally(rs, errs); got["true"] != 10 || got["RATE_LIMITED"] != n-10 {
		t.Errorf("%d requests at once from one address: %v, want 10 true and the rest RATE_LIMITED", n, got)
	}
}

// mustRegister registers a user with a client of its own and returns the email.
func (ts *testServer) mustRegister(t *testing.T) string {
	u, _ := ts.register(t, ts.client(t))
	return u.Email
}

func TestEmailVerification(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)
	other := ts.client(t) // a second session of the same user
	if r := ts.gql(t, other, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	me := func(c *http.Client) verifiedUser {
		var v verifiedUser
		ts.gql(t, c, meVerifiedQuery, nil).decode(t, "me", &v)
		return v
	}
	if me(c).EmailVerified {
		t.Fatal("a new account's address is verified before any link was used")
	}
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectVerify, 0, mailWithin), verifyLinkPrefix)

	// The link works from any browser, once.
	r := ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": token})
	var v verifiedUser
	r.decode(t, "verifyEmail", &v)
	if !v.EmailVerified || v.ID != u.ID {
		t.Fatalf("verifyEmail = %+v", v)
	}
	if !me(c).EmailVerified || !me(other).EmailVerified {
		t.Fatal("the user's sessions do not see the address verified")
	}
	expectBadToken(t, "a used verification link", ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": token}))
	expectBadToken(t, "a malformed verification token", ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": "AAAA"}))
	var sent bool
	ts.gql(t, c, resendMutation, nil).decode(t, "resendVerificationEmail", &sent)
	if sent {
		t.Fatal("resendVerificationEmail for a verified address = true, want false")
	}

	// A new email is unverified; the link goes to it, a notice to the old one.
	newEmail := "moved-" + randomHex(5) + "@example.com"
	r = ts.gql(t, c, updateEmailMutation, map[string]any{"i": map[string]any{"email": newEmail, "currentPassword": pw}})
	r.decode(t, "updateMe", &v)
	if v.EmailVerified || v.Email != newEmail {
		t.Fatalf("updateMe = %+v, want the new email unverified", v)
	}
	if me(other).EmailVerified {
		t.Fatal("another session still sees the new email as verified")
	}
	notice := waitMail(t, smtp, u.Email, subjectEmailChanged, 0, mailWithin)
	if strings.Contains(notice.Text, "verify-email") {
		t.Fatal("the notice to the old address carries a verification link")
	}
	first := tokenOf(t, waitMail(t, smtp, newEmail, subjectVerify, 0, mailWithin), verifyLinkPrefix)
	ts.gql(t, c, resendMutation, nil).decode(t, "resendVerificationEmail", &sent)
	if !sent {
		t.Fatal("resendVerificationEmail for an unverified address = false")
	}
	second := tokenOf(t, waitMail(t, smtp, newEmail, subjectVerify, 1, mailWithin), verifyLinkPrefix)
	expectBadToken(t, "the verification link before a resend", ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": first}))
	ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": second}).decode(t, "verifyEmail", &v)
	if !v.EmailVerified || v.Email != newEmail {
		t.Fatalf("verifyEmail of the new address = %+v", v)
	}
}

func TestVerificationLinkOfAnAddressNoLongerTheUsersFails(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectVerify, 0, mailWithin), verifyLinkPrefix)
	if r := ts.gql(t, c, updateEmailMutation, map[string]any{"i": map[string]any{"email": "elsewhere-" + randomHex(4) + "@example.com", "currentPassword": pw}}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	expectBadToken(t, "the old address's verification link", ts.gql(t, ts.client(t), verifyEmailMutation, map[string]any{"t": token}))
	if ts.gql(t, c, meVerifiedQuery, nil).Data["me"] == nil {
		t.Fatal("no me")
	}
}

func TestResendVerificationIsThrottled(t *testing.T) {
	ts, _ := startMailServer(t, nil)
	c := ts.client(t)
	ts.register(t, c)
	const n = 12
	rs, errs := make([]gqlResponse, n), make([]error, n)
	startTogether(n, func(i int) { rs[i], errs[i] = ts.tryGQL(c, resendMutation, nil) })
	sent, limited := 0, 0
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("#%d: %v", i, errs[i])
		case len(rs[i].Errors) == 0:
			sent++
		case rs[i].code() == "RATE_LIMITED" && retryAfter(rs[i]) > 0:
			limited++
		default:
			t.Errorf("#%d: %+v", i, rs[i].Errors)
		}
	}
	if sent != 5 || limited != n-5 {
		t.Errorf("%d resends at once: %d sent, %d RATE_LIMITED; want 5 and %d", n, sent, limited, n-5)
	}
}

func TestPasswordChangeSendsANotice(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)
	if r := ts.gql(t, c, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "changed passphrase " + randomHex(3)}}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	m := waitMail(t, smtp, u.Email, subjectPasswordChanged, 0, mailWithin)
	if !strings.Contains(m.Text, appURL+"/forgot-password") {
		t.Errorf("the notice does not say how to recover the account:\n%s", m.Text)
	}
}

func TestTwoInstancesSendEachQueuedMailOnce(t *testing.T) {
	a, smtp := startMailServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32", "REGISTER_LIMIT_PER_IP": "1000"})
	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"], "SMTP_URL": smtp.URL(), "APP_URL": appURL, "TRUSTED_PROXIES": "127.0.0.1/32"})
	// Stop deliveries while the queue fills, so both senders find every
	// message due at once when it comes back.
	smtp.Stop()
	const n = 40
	emails := make([]string, n)
	for i := range emails {
		emails[i] = a.mustRegister(t)
	}
	startTogether(n, func(i int) {
		ts := a
		if i%2 == 1 {
			ts = b
		}
		_, _ = ts.gqlFrom(jarClient(), fmt.Sprintf("198.51.100.%d", i+1), requestResetMutation, map[string]any{"e": emails[i]})
	})
	smtp.Restart()
	for _, e := range emails {
		waitMail(t, smtp, e, subjectReset, 0, 45*time.Second)
		waitMail(t, smtp, e, subjectVerify, 0, 45*time.Second)
	}
	time.Sleep(2 * time.Second) // a duplicate would be sent by now
	ids := map[string]int{}
	for _, m := range smtp.Messages() {
		ids[m.MessageID]++
	}
	for _, e := range emails {
		if c := mailsTo(smtp, e, subjectReset); c != 1 {
			t.Errorf("%d reset mails to %s, want exactly 1", c, e)
		}
		if c := mailsTo(smtp, e, subjectVerify); c != 1 {
			t.Errorf("%d verification mails to %s, want exactly 1", c, e)
		}
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("message %s delivered %d times", id, c)
		}
	}
}

func TestMailQueuedDuringAnSMTPOutageIsDeliveredOnceAfterIt(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	u, _ := ts.register(t, ts.client(t))
	waitMail(t, smtp, u.Email, subjectVerify, 0, mailWithin)
	smtp.Stop()
	ts.requestReset(t, u.Email)
	outage := 6 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TEST_SMTP_OUTAGE")); err == nil {
		outage = d // e.g. 30s, for the figure in docs/API.md
	}
	time.Sleep(outage)
	smtp.Restart()
	back := time.Now()
	m := waitMail(t, smtp, u.Email, subjectReset, 0, 45*time.Second)
	t.Logf("after a %v outage the reset mail arrived %v after the SMTP server came back", outage, m.At.Sub(back).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	if c := mailsTo(smtp, u.Email, subjectReset); c != 1 {
		t.Fatalf("%d reset mails after the outage, want exactly 1", c)
	}
	// The link made when the mail was finally sent works.
	if r := ts.gql(t, ts.client(t), resetPasswordMutation, resetVars(tokenOf(t, m, resetLinkPrefix), "after the outage "+randomHex(3))); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if !strings.Contains(ts.logs.String(), "mail") {
		t.Error("nothing logged about the failed attempts")
	}
}

func TestWithoutSMTPMailIsLoggedWithItsLink(t *testing.T) {
	ts := startServer(t, map[string]string{"APP_URL": appURL})
	u, _ := ts.register(t, ts.client(t))
	logs := func() string { return ts.logs.String() }
	if !strings.Contains(logs(), "SMTP_URL is unset") {
		t.Fatalf("no start-up warning about SMTP_URL:\n%s", logs())
	}
	deadline := time.Now().Add(mailWithin)
	for !strings.Contains(logs(), verifyLinkPrefix) {
		if time.Now().After(deadline) {
			t.Fatalf("the verification link for %s was not logged:\n%s", u.Email, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
