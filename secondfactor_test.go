package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The second factor (docs/API.md, "Second factor (TOTP) and recovery
// codes"), with codes computed from the secret at chosen times.

const (
	beginTotpMutation   = `mutation($p: String!) { beginTotpSetup(currentPassword: $p) { secret uri qrCode } }`
	confirmTotpMutation = `mutation($c: String!) { confirmTotpSetup(code: $c) }`
	disableTotpMutation = `mutation($p: String!, $c: String!) { disableTotp(currentPassword: $p, code: $c) }`
	regenerateMutation  = `mutation($p: String!) { regenerateRecoveryCodes(currentPassword: $p) }`
	verifyCodeMutation  = `mutation($c: String!) { verifySecondFactor(code: $c) { id email totpEnabled } }`
	meTotpQuery         = `{ me { id totpEnabled } }`
)

// codeAt is the TOTP code of secret (base32) at t.
func codeAt(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// stepStart is the start of the 30 s step that holds now, so a test
// computing codes at now ± k steps knows which step each is.
func stepStart() time.Time { return time.Unix(time.Now().Unix()/30*30, 0) }

type totpUser struct {
	user
	password, secret string
	recovery         []string
	client           *http.Client
}

// enableTotp registers a user and turns TOTP on with the code of the
// step confirmAt falls in.
func (ts *testServer) enableTotp(t *testing.T, confirmAt time.Time) totpUser {
	t.Helper()
	c := ts.client(t)
	u, pw := ts.register(t, c)
	r := ts.gql(t, c, beginTotpMutation, map[string]any{"p": pw})
	var setup struct{ Secret, URI, QRCode string }
	r.decode(t, "beginTotpSetup", &setup)
	r = ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, setup.Secret, confirmAt)})
	var codes []string
	r.decode(t, "confirmTotpSetup", &codes)
	return totpUser{user: u, password: pw, secret: setup.Secret, recovery: codes, client: c}
}

// startSignIn logs in with the password and expects the second step.
func (ts *testServer) startSignIn(t *testing.T, c *http.Client, u totpUser) {
	t.Helper()
	r := ts.gql(t, c, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": u.password}})
	if r.code() != "SECOND_FACTOR_REQUIRED" || string(r.Data["login"]) != "" && string(r.Data["login"]) != "null" {
		t.Fatalf("login with TOTP on: %+v %s, want SECOND_FACTOR_REQUIRED", r.Errors, r.Data["login"])
	}
}

func TestTotpSetupAndTwoStepSignIn(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	c := ts.client(t)
	u, pw := ts.register(t, c)

	if r := ts.gql(t, c, beginTotpMutation, map[string]any{"p": "not the password"}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("beginTotpSetup with a wrong password: %+v", r.Errors)
	}
	var setup struct{ Secret, URI, QRCode string }
	ts.gql(t, c, beginTotpMutation, map[string]any{"p": pw}).decode(t, "beginTotpSetup", &setup)
	key, err := otp.NewKeyFromURL(setup.URI)
	if err != nil || key.Secret() != setup.Secret || key.Issuer() != "Flashcards" || key.AccountName() != u.Email {
		t.Fatalf("uri %q: %v (secret %q, issuer %q, account %q)", setup.URI, err, key.Secret(), key.Issuer(), key.AccountName())
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(setup.QRCode, "data:image/png;base64,")); err != nil || !strings.HasPrefix(string(raw), "\x89PNG") {
		t.Fatalf("qrCode is not a PNG data URL: %.40q", setup.QRCode)
	}
	if len(setup.Secret) < 32 { // base32: 5 bits a character
		t.Fatalf("secret %q is shorter than 160 bits", setup.Secret)
	}
	now := stepStart().Add(time.Second)
	if r := ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, setup.Secret, now.Add(time.Hour))}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("confirm with a wrong code: %+v", r.Errors)
	}
	var codes []string
	ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, setup.Secret, now)}).decode(t, "confirmTotpSetup", &codes)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	var me struct{ TotpEnabled bool }
	ts.gql(t, c, meTotpQuery, nil).decode(t, "me", &me)
	if !me.TotpEnabled {
		t.Fatal("me.totpEnabled is false after confirmTotpSetup")
	}
	waitMail(t, smtp, u.Email, "Two-step sign-in was turned on", 0, mailWithin)

	// The password alone leaves the browser with a pending cookie only.
	b := ts.client(t)
	r := ts.gql(t, b, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": pw}})
	if r.code() != "SECOND_FACTOR_REQUIRED" {
		t.Fatalf("login: %+v, want SECOND_FACTOR_REQUIRED", r.Errors)
	}
	raw := rawSetCookie(r.HTTP, "sid")
	for _, attr := range []string{"Max-Age=300", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("pending cookie %q lacks %s", raw, attr)
		}
	}
	pending := ts.sessionCookie(t, b)
	if ts.me(t, b) != nil {
		t.Fatal("me is not null under a pending cookie")
	}
	for _, q := range []string{sessionsQuery, `mutation { logoutOtherSessions }`, `{ decks { id } }`} {
		if r := ts.gql(t, b, q, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("%s under a pending cookie: %+v, want UNAUTHENTICATED", q, r.Errors)
		}
	}
	ws, err := ts.dialWS(t, "sid="+pending, "http://app.test:5173")
	if err == nil {
		if _, err := ws.init(); err == nil {
			ws.subscribe("s", sessionEndedSubscription)
			if m, err := ws.next(5 * time.Second); err == nil && m.Type != "error" {
				t.Fatalf("sessionEnded under a pending cookie: %s %s, want an error", m.Type, m.Payload)
			}
		}
	}

	// One step of skew is accepted, two are not; the confirm's step is spent.
	for _, at := range []time.Time{now, now.Add(-60 * time.Second), now.Add(60 * time.Second)} {
		if r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": codeAt(t, setup.Secret, at)}); r.code() != "INVALID_CREDENTIALS" {
			t.Fatalf("code of %v from now: %+v, want INVALID_CREDENTIALS", at.Sub(now), r.Errors)
		}
	}
	r = ts.gql(t, b, verifyCodeMutation, map[string]any{"c": codeAt(t, setup.Secret, now.Add(30*time.Second))})
	var signed struct {
		ID          string
		TotpEnabled bool
	}
	r.decode(t, "verifySecondFactor", &signed)
	if signed.ID != u.ID || ts.sessionCookie(t, b) == pending {
		t.Fatalf("verifySecondFactor = %+v; the cookie must be a fresh token", signed)
	}
	if me := ts.me(t, b); me == nil || me.ID != u.ID {
		t.Fatal("not signed in after the second step")
	}
	if r := ts.gql(t, ts.withCookie(t, "sid", pending), verifyCodeMutation, map[string]any{"c": codeAt(t, setup.Secret, now.Add(30*time.Second))}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("the spent pending cookie again: %+v, want UNAUTHENTICATED", r.Errors)
	}
}

func TestTotpAcceptsOneStepBackButNotTwo(t *testing.T) {
	ts := startServer(t, nil)
	now := stepStart().Add(time.Second)
	c := ts.client(t)
	_, pw := ts.register(t, c)
	var setup struct{ Secret string }
	ts.gql(t, c, beginTotpMutation, map[string]any{"p": pw}).decode(t, "beginTotpSetup", &setup)
	if r := ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, setup.Secret, now.Add(-60*time.Second))}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("a code two steps old: %+v, want INVALID_CREDENTIALS", r.Errors)
	}
	if r := ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, setup.Secret, now.Add(-30*time.Second))}); len(r.Errors) > 0 {
		t.Fatalf("a code one step old: %+v", r.Errors)
	}
}

func TestTotpCodeReplayedOnAnotherInstanceIsRefused(t *testing.T) {
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"]})
	now := stepStart().Add(time.Second)
	u := a.enableTotp(t, now)
	code := codeAt(t, u.secret, now.Add(30*time.Second))
	onA, onB := a.client(t), b.client(t)
	a.startSignIn(t, onA, u)
	b.startSignIn(t, onB, u)
	if r := a.gql(t, onA, verifyCodeMutation, map[string]any{"c": code}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if r := b.gql(t, onB, verifyCodeMutation, map[string]any{"c": code}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("the same code on the other instance: %+v, want INVALID_CREDENTIALS", r.Errors)
	}
	if b.me(t, onB) != nil {
		t.Fatal("a replayed code signed in")
	}
}

func TestRecoveryCodesWorkOnceEvenAtOnce(t *testing.T) {
	ts, smtp := startMailServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "1000", "LOGIN_LIMIT_PER_IP": "1000"})
	u := ts.enableTotp(t, time.Now())
	const n = 8
	browsers := make([]*http.Client, n)
	for i := range browsers {
		browsers[i] = ts.client(t)
		ts.startSignIn(t, browsers[i], u)
	}
	code := strings.ToUpper(u.recovery[0]) // case and dashes do not matter
	rs, errs := make([]gqlResponse, n), make([]error, n)
	startTogether(n, func(i int) { rs[i], errs[i] = ts.tryGQL(browsers[i], verifyCodeMutation, map[string]any{"c": code}) })
	won := 0
	for i := range n {
		switch {
		case errs[i] != nil:
			t.Errorf("#%d: %v", i, errs[i])
		case len(rs[i].Errors) == 0:
			won++
		case rs[i].code() != "INVALID_CREDENTIALS":
			t.Errorf("#%d: %+v", i, rs[i].Errors)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d sign-ins with one recovery code succeeded, want 1", won, n)
	}
	waitMail(t, smtp, u.Email, "A recovery code was used", 0, mailWithin)

	// Regenerated codes replace the old ones.
	var fresh []string
	ts.gql(t, u.client, regenerateMutation, map[string]any{"p": u.password}).decode(t, "regenerateRecoveryCodes", &fresh)
	b := ts.client(t)
	ts.startSignIn(t, b, u)
	if r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": u.recovery[1]}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("an old recovery code after regenerating: %+v", r.Errors)
	}
	if r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": fresh[0]}); len(r.Errors) > 0 {
		t.Fatalf("a new recovery code: %+v", r.Errors)
	}
	waitMail(t, smtp, u.Email, "New recovery codes", 0, mailWithin)
}

func TestWrongCodesAreThrottledAtOnce(t *testing.T) {
	ts := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "5", "LOGIN_LIMIT_PER_IP": "1000"})
	now := stepStart().Add(time.Second)
	u := ts.enableTotp(t, now)
	b := ts.client(t)
	ts.startSignIn(t, b, u)
	const n = 30
	rs, errs := make([]gqlResponse, n), make([]error, n)
	startTogether(n, func(i int) {
		rs[i], errs[i] = ts.tryGQL(b, verifyCodeMutation, map[string]any{"c": fmt.Sprintf("%06d", (i*7919)%1000000)})
	})
	tallyThrottled(rs, errs, "INVALID_CREDENTIALS").expectChecked(t, 5)
	// Once limited, even the right code is not checked.
	if r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": codeAt(t, u.secret, now.Add(30*time.Second))}); r.code() != "RATE_LIMITED" {
		t.Fatalf("the right code once limited: %+v, want RATE_LIMITED", r.Errors)
	}
}

func TestDisableTotpNeedsPasswordAndCode(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	now := stepStart().Add(time.Second)
	u := ts.enableTotp(t, now)
	next := codeAt(t, u.secret, now.Add(30*time.Second))
	if r := ts.gql(t, u.client, disableTotpMutation, map[string]any{"p": "wrong password", "c": next}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("disable with a wrong password: %+v", r.Errors)
	}
	if r := ts.gql(t, u.client, disableTotpMutation, map[string]any{"p": u.password, "c": "000000"}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("disable with a wrong code: %+v", r.Errors)
	}
	if r := ts.gql(t, u.client, disableTotpMutation, map[string]any{"p": u.password, "c": next}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	ts.login(t, ts.client(t), u.Email, u.password) // no second step now
	waitMail(t, smtp, u.Email, "Two-step sign-in was turned off", 0, mailWithin)
}

func TestResetWithTotpEndsEverySessionAndAsksForTheCode(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	now := stepStart().Add(time.Second)
	u := ts.enableTotp(t, now)
	ws := ts.subscribeSessionEnded(t, ts.sessionCookie(t, u.client), "ended")
	ts.requestReset(t, u.Email)
	token := tokenOf(t, waitMail(t, smtp, u.Email, subjectReset, 0, mailWithin), resetLinkPrefix)
	b := u.client // the same browser: its own session ends too
	if r := ts.gql(t, b, resetPasswordMutation, resetVars(token, "reset with totp "+randomHex(3))); r.code() != "SECOND_FACTOR_REQUIRED" {
		t.Fatalf("resetPassword with TOTP on: %+v, want SECOND_FACTOR_REQUIRED", r.Errors)
	}
	ws.expectSessionEnded("ended", "PASSWORD_CHANGED", 5*time.Second)
	if ts.me(t, b) != nil {
		t.Fatal("signed in before the second step")
	}
	if r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": codeAt(t, u.secret, now.Add(30*time.Second))}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if list := ts.sessions(t, b); len(list) != 1 {
		t.Fatalf("%d sessions after reset and second step, want 1", len(list))
	}
}

// Secrets are sealed with ENCRYPTION_KEY; listing a new key first keeps
// the old secrets readable while new ones use the new key.
func TestTotpSecretsAreEncryptedAndSurviveKeyRotation(t *testing.T) {
	const newKey = "bmV3IGtleSBuZXcga2V5IG5ldyBrZXkgbmV3IGtleSE=" // 32 bytes
	a := startServer(t, nil)
	now := stepStart().Add(time.Second)
	u := a.enableTotp(t, now)
	client, err := mongo.Connect(options.Client().ApplyURI(testMongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	users := client.Database(a.Env["MONGODB_DATABASE"]).Collection("users")
	keyOf := func(id string) (string, []byte) {
		oid, _ := bson.ObjectIDFromHex(id)
		var doc struct {
			Totp struct {
				KeyID string `bson:"keyId"`
				Data  []byte `bson:"data"`
			} `bson:"totp"`
		}
		if err := users.FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc.Totp.KeyID, doc.Totp.Data
	}
	oldID, data := keyOf(u.ID)
	if oldID == "" || len(data) == 0 || strings.Contains(string(data), u.secret) {
		t.Fatalf("stored secret: key %q, %d bytes; want it sealed", oldID, len(data))
	}

	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"],
		"ENCRYPTION_KEY": newKey + "," + testEncryptionKey})
	c := b.client(t)
	b.startSignIn(t, c, u)
	if r := b.gql(t, c, verifyCodeMutation, map[string]any{"c": codeAt(t, u.secret, now.Add(30*time.Second))}); len(r.Errors) > 0 {
		t.Fatalf("a secret sealed under the old key, after rotation: %+v", r.Errors)
	}
	v := b.enableTotp(t, now)
	if newID, _ := keyOf(v.ID); newID == "" || newID == oldID {
		t.Fatalf("a secret made after rotation is sealed with key %q, the old one was %q", newID, oldID)
	}
}

func TestPendingSetupExpiresAndIsReplaced(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	_, pw := ts.register(t, c)
	var first, second struct{ Secret string }
	ts.gql(t, c, beginTotpMutation, map[string]any{"p": pw}).decode(t, "beginTotpSetup", &first)
	ts.gql(t, c, beginTotpMutation, map[string]any{"p": pw}).decode(t, "beginTotpSetup", &second)
	if r := ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, first.Secret, time.Now())}); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("a code of the replaced setup: %+v", r.Errors)
	}
	if r := ts.gql(t, c, confirmTotpMutation, map[string]any{"c": codeAt(t, second.Secret, time.Now())}); len(r.Errors) > 0 {
		t.Fatalf("a code of the newest setup: %+v", r.Errors)
	}
}

func TestNewBrowserSignInSendsANotice(t *testing.T) {
	ts, smtp := startMailServer(t, nil)
	const (
		firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
		chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	)
	u, pw := ts.register(t, ts.uaClient(t, firefox))
	ts.login(t, ts.uaClient(t, firefox), u.Email, pw)
	ts.login(t, ts.uaClient(t, chrome), u.Email, pw)
	m := waitMail(t, smtp, u.Email, "New sign-in", 0, mailWithin)
	if !strings.Contains(m.Text, "Chrome on Windows") {
		t.Fatalf("the notice does not name the browser:\n%s", m.Text)
	}
	ts.login(t, ts.uaClient(t, chrome), u.Email, pw)
	time.Sleep(noMailWithin)
	if n := mailsTo(smtp, u.Email, "New sign-in"); n != 1 {
		t.Fatalf("%d new sign-in notices, want 1 (the registering browser and a seen one send none)", n)
	}
}

// The right password is half a sign-in: it does not clear the wrong codes
// counted before it, or it would buy new guesses at every login.
func TestThePasswordDoesNotResetTheCodeGuesses(t *testing.T) {
	ts := startServer(t, map[string]string{"LOGIN_LIMIT_PER_EMAIL": "5", "LOGIN_LIMIT_PER_IP": "1000"})
	u := ts.enableTotp(t, time.Now())
	var codes []string
	for round := range 4 {
		b := ts.client(t)
		r := ts.gql(t, b, loginMutation, map[string]any{"i": map[string]any{"email": u.Email, "password": u.password}})
		codes = append(codes, r.code())
		for i := range 2 {
			r := ts.gql(t, b, verifyCodeMutation, map[string]any{"c": fmt.Sprintf("%06d", round*10+i)})
			codes = append(codes, r.code())
		}
	}
	checked := 0
	for _, c := range codes {
		if c == "INVALID_CREDENTIALS" {
			checked++
		}
	}
	t.Logf("answers: %v", codes)
	if checked > 5 {
		t.Fatalf("%d wrong codes checked across logins with the right password, want at most 5", checked)
	}
}
