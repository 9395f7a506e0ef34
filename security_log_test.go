package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// The security log (docs/API.md, "Security log").

const securityEventsQuery = `query($n: Int, $a: String) { securityEvents(first: $n, after: $a) {
	edges { cursor node { id kind at ip userAgent } } pageInfo { hasNextPage endCursor } } }`

type securityEvent struct {
	ID, Kind, At  string
	IP, UserAgent *string
}

// securityLog reads the whole log of c's user, page by page.
func (ts *testServer) securityLog(t *testing.T, c *http.Client, pageSize int) []securityEvent {
	t.Helper()
	var out []securityEvent
	var after any
	for range 100 {
		var conn struct {
			Edges []struct {
				Cursor string
				Node   securityEvent
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
		ts.gql(t, c, securityEventsQuery, map[string]any{"n": pageSize, "a": after}).decode(t, "securityEvents", &conn)
		for _, e := range conn.Edges {
			out = append(out, e.Node)
		}
		if !conn.PageInfo.HasNextPage {
			return out
		}
		after = *conn.PageInfo.EndCursor
	}
	t.Fatal("more than 100 pages")
	return nil
}

func kinds(events []securityEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// asBrowser sends every request with the User-Agent and, through a
// trusted proxy, the client address.
type asBrowser struct{ ua, ip string }

func (b asBrowser) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", b.ua)
	r.Header.Set("X-Forwarded-For", b.ip)
	return http.DefaultTransport.RoundTrip(r)
}

func TestSecurityLogRecordsEachActionForItsUserOnly(t *testing.T) {
	ts, smtp := startMailServer(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"})
	browser := func(ip string) *http.Client {
		c := ts.client(t)
		c.Transport = asBrowser{ua: "log-test/1.0", ip: ip}
		return c
	}
	c := browser("203.0.113.7")
	u, pw := ts.register(t, c) // SIGNED_IN
	other := browser("198.51.100.1")
	ts.register(t, other) // another user's
	// SIGN_IN_FAILED:
	ts.gql(t, browser("203.0.113.8"), loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": "wrong password"}})
	second := browser("203.0.113.9")
	ts.login(t, second, u.Email, pw) // SIGNED_IN
	third := browser("203.0.113.9")
	ts.login(t, third, u.Email, pw)              // SIGNED_IN
	ts.gql(t, third, `mutation { logout }`, nil) // SIGNED_OUT
	id := ts.sessions(t, c)[0].ID
	if s := ts.sessions(t, c); s[0].Current {
		id = s[1].ID
	}
	ts.gql(t, c, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": id}) // SESSION_REVOKED
	ts.gql(t, c, `mutation { logoutOtherSessions }`, nil)                                   // OTHER_SESSIONS_ENDED
	pw2 := "second passphrase " + randomHex(3)
	ts.gql(t, c, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": pw2}}) // PASSWORD_CHANGED
	newEmail := "moved-" + randomHex(4) + "@example.com"
	ts.gql(t, c, updateEmailMutation, map[string]any{"i": map[string]any{"email": newEmail, "currentPassword": pw2}}) // EMAIL_CHANGED
	token := tokenOf(t, waitMail(t, smtp, newEmail, subjectVerify, 0, mailWithin), verifyLinkPrefix)
	ts.gql(t, browser("203.0.113.10"), verifyEmailMutation, map[string]any{"t": token}) // EMAIL_VERIFIED
	ts.gql(t, c, requestResetMutation, map[string]any{"e": newEmail})                   // PASSWORD_RESET_REQUESTED
	reset := tokenOf(t, waitMail(t, smtp, newEmail, subjectReset, 0, mailWithin), resetLinkPrefix)
	ts.gql(t, c, resetPasswordMutation, resetVars(reset, "third passphrase "+randomHex(3))) // PASSWORD_RESET, SIGNED_IN

	want := []string{"SIGNED_IN", "PASSWORD_RESET", "PASSWORD_RESET_REQUESTED", "EMAIL_VERIFIED", "EMAIL_CHANGED", "PASSWORD_CHANGED",
		"OTHER_SESSIONS_ENDED", "SESSION_REVOKED", "SIGNED_OUT", "SIGNED_IN", "SIGNED_IN", "SIGN_IN_FAILED", "SIGNED_IN"}
	events := ts.securityLog(t, c, 4)
	if got := kinds(events); !slices.Equal(got, want) {
		t.Fatalf("log, newest first:\n got %v\nwant %v", got, want)
	}
	if e := events[len(events)-2]; e.IP == nil || *e.IP != "203.0.113.8" || e.UserAgent == nil || *e.UserAgent != "log-test/1.0" {
		t.Fatalf("the failed sign-in's ip and user agent: %+v", e)
	}
	if e := events[3]; *e.IP != "203.0.113.10" {
		t.Fatalf("EMAIL_VERIFIED came from %v, want the verifying browser's address", *e.IP)
	}
	for i := 1; i < len(events); i++ {
		if events[i].At > events[i-1].At {
			t.Fatalf("event %d (%s) is newer than the one before it", i, events[i].At)
		}
	}
	if got := kinds(ts.securityLog(t, other, 20)); !slices.Equal(got, []string{"SIGNED_IN"}) {
		t.Fatalf("the other user's log: %v, want only their own sign-in", got)
	}
	if r := ts.gql(t, c, securityEventsQuery, map[string]any{"n": 5, "a": "not a cursor"}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("a bad cursor: %+v", r.Errors)
	}
	if r := ts.gql(t, ts.client(t), securityEventsQuery, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous: %+v", r.Errors)
	}
}

func TestSecurityLogOfTwoStepSignIn(t *testing.T) {
	ts := startServer(t, nil)
	now := stepStart().Add(time.Second)
	u := ts.enableTotp(t, now)
	b := ts.client(t)
	ts.startSignIn(t, b, u)
	ts.gql(t, b, verifyCodeMutation, map[string]any{"c": "000000"})
	ts.gql(t, b, verifyCodeMutation, map[string]any{"c": u.recovery[0]})
	ts.gql(t, u.client, regenerateMutation, map[string]any{"p": u.password})
	ts.gql(t, u.client, disableTotpMutation, map[string]any{"p": u.password, "c": codeAt(t, u.secret, now.Add(30*time.Second))})
	want := []string{"TOTP_DISABLED", "RECOVERY_CODES_REGENERATED", "SIGNED_IN", "RECOVERY_CODE_USED", "SIGN_IN_FAILED", "TOTP_ENABLED", "SIGNED_IN"}
	if got := kinds(ts.securityLog(t, u.client, 20)); !slices.Equal(got, want) {
		t.Fatalf("log:\n got %v\nwant %v", got, want)
	}
}

func TestSecurityLogForgetsEventsPastRetention(t *testing.T) {
	ts := startServer(t, map[string]string{"SECURITY_LOG_RETENTION": "3s"})
	c := ts.client(t)
	u, pw := ts.register(t, c)
	time.Sleep(3500 * time.Millisecond)
	ts.login(t, c, u.Email, pw)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := kinds(ts.securityLog(t, c, 20))
		if slices.Equal(got, []string{"SIGNED_IN"}) {
			return // the registration's sign-in is gone, the login's stays
		}
		if time.Now().After(deadline) {
			t.Fatalf("log after the retention: %v, want only the newest sign-in", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
