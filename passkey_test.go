package main

// Passkeys (docs/API.md, "Passkeys"): registration and usernameless
// sign-in over real HTTP, answered by a software authenticator
// (descope/virtualwebauthn) for the relying party app.test at the web
// app's origin. Responses the server must refuse are made by the same
// authenticator with one thing wrong.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
)

const (
	beginPasskeyRegistrationMutation  = `mutation { beginPasskeyRegistration }`
	finishPasskeyRegistrationMutation = `mutation($n: String!, $c: JSON!) { finishPasskeyRegistration(name: $n, credential: $c) { id name createdAt lastUsedAt } }`
	removePasskeyMutation             = `mutation($id: ID!) { removePasskey(id: $id) }`
	beginPasskeySignInMutation        = `mutation { beginPasskeySignIn }`
	finishPasskeySignInMutation       = `mutation($c: JSON!) { finishPasskeySignIn(credential: $c) { id email name } }`
	passkeysQuery                     = `{ passkeys { id name createdAt lastUsedAt } }`
	ceremonyCookieName                = "webauthn"
)

// appRP is the relying party as the web app's browser sees it: the servers
// run with WEBAUTHN_RP_ID=app.test and WEBAUTHN_ORIGINS defaulting to
// CORS_ORIGINS (appURL).
var appRP = virtualwebauthn.RelyingParty{Name: "Flashcards", ID: "app.test", Origin: appURL}

// passkeyEnv is the environment of a server for app.test, with more
// settings as key, value pairs.
func passkeyEnv(kv ...string) map[string]string {
	env := map[string]string{"WEBAUTHN_RP_ID": "app.test"}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

type passkeyInfo struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"createdAt"`
	LastUsedAt *string `json:"lastUsedAt"`
}

// softKey is one passkey on a software authenticator that knows its
// user's handle, as a discoverable credential does.
type softKey struct {
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

// id is the credential id as the API shows it (base64url, no padding).
func (k softKey) id() string { return base64.RawURLEncoding.EncodeToString(k.cred.ID) }

// newSoftKey is a fresh credential on an authenticator that verifies its
// user and is present, unless opts say otherwise.
func newSoftKey(opts virtualwebauthn.AuthenticatorOptions) softKey {
	return softKey{auth: virtualwebauthn.NewAuthenticatorWithOptions(opts), cred: newCredential()}
}

// newCredential is a P-256 credential whose coordinates have no leading
// zero byte: virtualwebauthn writes them without their leading zeros
// (big.Int.Bytes), which a relying party rightly refuses as a malformed
// key, for one key in 128.
func newCredential() virtualwebauthn.Credential {
	for {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		point, err := key.PublicKey.Bytes() // 0x04 || x (32 bytes) || y (32 bytes)
		if err != nil {
			panic(err)
		}
		if point[1] == 0 || point[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			panic(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

// jsonObject turns virtualwebauthn's response (PublicKeyCredential.toJSON()
// as a string) into the object the credential variable carries.
func jsonObject(t testing.TB, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("credential %q: %v", s, err)
	}
	return v
}

// beginRegistration asks for creation options with c's session and
// returns them as sent and as the authenticator reads them.
func (ts *testServer) beginRegistration(t testing.TB, c *http.Client) (json.RawMessage, *virtualwebauthn.AttestationOptions) {
	t.Helper()
	r := ts.gql(t, c, beginPasskeyRegistrationMutation, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("beginPasskeyRegistration: %+v", r.Errors)
	}
	raw := r.Data["beginPasskeyRegistration"]
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatalf("creation options %s: %v", raw, err)
	}
	return raw, opts
}

// attestation is the authenticator's answer to opts for rp.
func attestation(t testing.TB, rp virtualwebauthn.RelyingParty, k softKey, opts *virtualwebauthn.AttestationOptions) map[string]any {
	t.Helper()
	return jsonObject(t, virtualwebauthn.CreateAttestationResponse(rp, k.auth, k.cred, *opts))
}

func (ts *testServer) finishRegistration(t testing.TB, c *http.Client, name string, credential map[string]any) gqlResponse {
	t.Helper()
	return ts.gql(t, c, finishPasskeyRegistrationMutation, map[string]any{"n": name, "c": credential})
}

// addPasskey registers a new passkey named name for c's user and returns
// it with the key, which then knows the user's handle.
func (ts *testServer) addPasskey(t testing.TB, c *http.Client, name string) (softKey, passkeyInfo) {
	t.Helper()
	k := newSoftKey(virtualwebauthn.AuthenticatorOptions{})
	_, opts := ts.beginRegistration(t, c)
	r := ts.finishRegistration(t, c, name, attestation(t, appRP, k, opts))
	if len(r.Errors) > 0 {
		t.Fatalf("finishPasskeyRegistration: %+v", r.Errors)
	}
	var p passkeyInfo
	r.decode(t, "finishPasskeyRegistration", &p)
	k.auth.Options.UserHandle = []byte(opts.UserID)
	k.auth.AddCredential(k.cred)
	return k, p
}

func (ts *testServer) passkeys(t testing.TB, c *http.Client) []passkeyInfo {
	t.Helper()
	r := ts.gql(t, c, passkeysQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("passkeys: %+v", r.Errors)
	}
	var out []passkeyInfo
	r.decode(t, "passkeys", &out)
	return out
}

// beginSignIn asks for request options with c and returns them as sent
// and as the authenticator reads them.
func (ts *testServer) beginSignIn(t testing.TB, c *http.Client) (json.RawMessage, *virtualwebauthn.AssertionOptions) {
	t.Helper()
	r := ts.gql(t, c, beginPasskeySignInMutation, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("beginPasskeySignIn: %+v", r.Errors)
	}
	raw := r.Data["beginPasskeySignIn"]
	opts, err := virtualwebauthn.ParseAssertionOptions(string(raw))
	if err != nil {
		t.Fatalf("request options %s: %v", raw, err)
	}
	return raw, opts
}

// assertion is the authenticator's answer to opts for rp.
func assertion(t testing.TB, rp virtualwebauthn.RelyingParty, k softKey, opts *virtualwebauthn.AssertionOptions) map[string]any {
	t.Helper()
	return jsonObject(t, virtualwebauthn.CreateAssertionResponse(rp, k.auth, k.cred, *opts))
}

func (ts *testServer) finishSignIn(t testing.TB, c *http.Client, credential map[string]any) gqlResponse {
	t.Helper()
	return ts.gql(t, c, finishPasskeySignInMutation, map[string]any{"c": credential})
}

// signInWithPasskey runs the whole sign-in ceremony with c and k.
func (ts *testServer) signInWithPasskey(t testing.TB, c *http.Client, k softKey) gqlResponse {
	t.Helper()
	_, opts := ts.beginSignIn(t, c)
	return ts.finishSignIn(t, c, assertion(t, appRP, k, opts))
}

// expectSignedIn checks a finishPasskeySignIn answer names u and left c
// signed in as u.
func (ts *testServer) expectSignedIn(t testing.TB, what string, c *http.Client, r gqlResponse, u user) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("%s: %+v", what, r.Errors)
	}
	var got user
	r.decode(t, "finishPasskeySignIn", &got)
	if got.ID != u.ID || got.Email != u.Email {
		t.Fatalf("%s: finishPasskeySignIn = %+v, want %s (%s)", what, got, u.ID, u.Email)
	}
	if me := ts.me(t, c); me == nil || me.ID != u.ID {
		t.Fatalf("%s: me = %+v after finishPasskeySignIn, want %s", what, me, u.ID)
	}
}

// expectRefused checks an answer is INVALID_CREDENTIALS with no data and
// no session cookie set.
func expectRefused(t testing.TB, what string, r gqlResponse) {
	t.Helper()
	if r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("%s: errors %+v, want INVALID_CREDENTIALS", what, r.Errors)
	}
	for field, raw := range r.Data {
		if string(raw) != "null" {
			t.Fatalf("%s: data.%s = %s, want null", what, field, raw)
		}
	}
	for _, c := range setCookies(r.HTTP, "sid") {
		if c.Value != "" && c.MaxAge >= 0 {
			t.Fatalf("%s: a refused ceremony set a session cookie", what)
		}
	}
}

// ceremonyCookie is the value of the ceremony cookie c holds for ts, or "".
func ceremonyCookie(ts *testServer, c *http.Client) string {
	u, _ := url.Parse(ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == ceremonyCookieName {
			return ck.Value
		}
	}
	return ""
}

// putCeremonyCookie puts a ceremony cookie in c's jar, as a browser that
// kept (or stole) it would send it.
func putCeremonyCookie(ts *testServer, c *http.Client, value string) {
	u, _ := url.Parse(ts.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: ceremonyCookieName, Value: value, Path: "/"}})
}

func parseTime(t testing.TB, what, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s %q: %v", what, s, err)
	}
	return at
}

func TestPasskeyRegistersAndSignsInWithoutPassword(t *testing.T) {
	ts, smtp := startMailServer(t, passkeyEnv())
	c := ts.client(t)
	u, _ := ts.register(t, c)
	if list := ts.passkeys(t, c); len(list) != 0 {
		t.Fatalf("passkeys of a new user: %+v", list)
	}

	// The creation options ask for a discoverable, user-verified credential.
	r := ts.gql(t, c, beginPasskeyRegistrationMutation, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("beginPasskeyRegistration: %+v", r.Errors)
	}
	if raw := rawSetCookie(r.HTTP, ceremonyCookieName); !strings.Contains(raw, "HttpOnly") {
		t.Fatalf("ceremony cookie %q: want an HttpOnly cookie named %s", raw, ceremonyCookieName)
	}
	var creation struct {
		PublicKey struct {
			RP                     struct{ ID string }
			User                   struct{ ID string }
			Challenge              string
			AuthenticatorSelection struct{ ResidentKey, UserVerification string }
		}
	}
	raw := r.Data["beginPasskeyRegistration"]
	if err := json.Unmarshal(raw, &creation); err != nil {
		t.Fatalf("creation options %s: %v", raw, err)
	}
	pk := creation.PublicKey
	if pk.RP.ID != "app.test" || pk.User.ID == "" || pk.Challenge == "" ||
		pk.AuthenticatorSelection.ResidentKey != "required" || pk.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("creation options %s: want {publicKey: …} with rp.id app.test, a user id, a challenge, residentKey and userVerification required", raw)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	k := newSoftKey(virtualwebauthn.AuthenticatorOptions{})
	before := time.Now().Add(-time.Second)
	r = ts.finishRegistration(t, c, "Laptop", attestation(t, appRP, k, opts))
	if len(r.Errors) > 0 {
		t.Fatalf("finishPasskeyRegistration: %+v", r.Errors)
	}
	var added passkeyInfo
	r.decode(t, "finishPasskeyRegistration", &added)
	if added.ID != k.id() || added.Name != "Laptop" || added.LastUsedAt != nil || parseTime(t, "createdAt", added.CreatedAt).Before(before) {
		t.Fatalf("finishPasskeyRegistration = %+v, want id %s, name Laptop, createdAt now, lastUsedAt null", added, k.id())
	}
	if list := ts.passkeys(t, c); len(list) != 1 || list[0] != added {
		t.Fatalf("passkeys = %+v, want only %+v", list, added)
	}
	waitMail(t, smtp, u.Email, "passkey", 0, mailWithin)
	k.auth.Options.UserHandle = []byte(opts.UserID)
	k.auth.AddCredential(k.cred)

	// A browser signed in as someone else gets a fresh session of the
	// passkey's user: no email, no password.
	b := ts.client(t)
	ts.register(t, b)
	other := ts.sessionCookie(t, b)
	r = ts.gql(t, b, beginPasskeySignInMutation, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("beginPasskeySignIn: %+v", r.Errors)
	}
	if raw := rawSetCookie(r.HTTP, ceremonyCookieName); !strings.Contains(raw, "HttpOnly") {
		t.Fatalf("ceremony cookie %q: want an HttpOnly cookie named %s", raw, ceremonyCookieName)
	}
	var request struct {
		PublicKey struct {
			Challenge        string
			RPID             string `json:"rpId"`
			UserVerification string
			AllowCredentials []any
		}
	}
	raw = r.Data["beginPasskeySignIn"]
	if err := json.Unmarshal(raw, &request); err != nil {
		t.Fatalf("request options %s: %v", raw, err)
	}
	if rq := request.PublicKey; rq.Challenge == "" || rq.RPID != "app.test" || rq.UserVerification != "required" || len(rq.AllowCredentials) != 0 {
		t.Fatalf("request options %s: want {publicKey: …} with a challenge, rpId app.test, userVerification required and no allowCredentials", raw)
	}
	signOpts, err := virtualwebauthn.ParseAssertionOptions(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	ts.expectSignedIn(t, "passkey sign-in", b, ts.finishSignIn(t, b, assertion(t, appRP, k, signOpts)), u)
	if s := ts.sessionCookie(t, b); s == "" || s == other {
		t.Fatal("the passkey sign-in kept the browser's session cookie, want a fresh one")
	}
	first := ts.passkeys(t, c)
	if len(first) != 1 || first[0].LastUsedAt == nil || parseTime(t, "lastUsedAt", *first[0].LastUsedAt).Before(parseTime(t, "createdAt", added.CreatedAt)) {
		t.Fatalf("passkeys after a sign-in = %+v, want lastUsedAt set", first)
	}

	// Each sign-in moves lastUsedAt.
	time.Sleep(20 * time.Millisecond)
	again := ts.client(t)
	ts.expectSignedIn(t, "a second passkey sign-in", again, ts.signInWithPasskey(t, again, k), u)
	second := ts.passkeys(t, c)
	if !parseTime(t, "lastUsedAt", *second[0].LastUsedAt).After(parseTime(t, "lastUsedAt", *first[0].LastUsedAt)) {
		t.Fatalf("lastUsedAt %s after a second sign-in, was %s: want later", *second[0].LastUsedAt, *first[0].LastUsedAt)
	}

	want := []string{"SIGNED_IN", "SIGNED_IN", "PASSKEY_ADDED", "SIGNED_IN"}
	if got := kinds(ts.securityLog(t, c, 20)); !slices.Equal(got, want) {
		t.Fatalf("log, newest first:\n got %v\nwant %v", got, want)
	}
}

func TestPasskeySignInAsksNoSecondFactor(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	u := ts.enableTotp(t, time.Now())
	k, _ := ts.addPasskey(t, u.client, "Phone")
	b := ts.client(t)
	r := ts.signInWithPasskey(t, b, k)
	if r.code() == "SECOND_FACTOR_REQUIRED" {
		t.Fatalf("a passkey sign-in with TOTP on asked for the second factor: %+v", r.Errors)
	}
	ts.expectSignedIn(t, "passkey sign-in with TOTP on", b, r, u.user)
	if list := ts.sessions(t, b); len(list) != 2 {
		t.Fatalf("%d sessions, want the TOTP user's and the passkey's", len(list))
	}
}

func TestPasskeyChallengeIsBoundToTheBrowserThatBeganIt(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	owner := ts.client(t)
	u, _ := ts.register(t, owner)
	k, _ := ts.addPasskey(t, owner, "Laptop")

	t.Run("sign-in finished by a browser without the cookie", func(t *testing.T) {
		a, b := ts.client(t), ts.client(t)
		_, opts := ts.beginSignIn(t, a)
		answer := assertion(t, appRP, k, opts)
		expectRefused(t, "an assertion for A's challenge sent by B", ts.finishSignIn(t, b, answer))
		if ts.me(t, b) != nil {
			t.Fatal("B is signed in")
		}
		// The assertion itself is good: A, which began the ceremony, signs in.
		ts.expectSignedIn(t, "the same assertion from A", a, ts.finishSignIn(t, a, answer), u)
	})

	t.Run("sign-in finished by a browser with its own ceremony", func(t *testing.T) {
		a, b := ts.client(t), ts.client(t)
		_, opts := ts.beginSignIn(t, a)
		ts.beginSignIn(t, b)
		answer := assertion(t, appRP, k, opts)
		expectRefused(t, "an assertion for A's challenge sent with B's ceremony cookie", ts.finishSignIn(t, b, answer))
		ts.expectSignedIn(t, "the same assertion from A", a, ts.finishSignIn(t, a, answer), u)
	})

	t.Run("sign-in without any begin", func(t *testing.T) {
		b := ts.client(t)
		expectRefused(t, "an assertion over a challenge the server never gave",
			ts.finishSignIn(t, b, assertion(t, appRP, k, &virtualwebauthn.AssertionOptions{Challenge: []byte(randomHex(16)), RelyingPartyID: "app.test"})))
	})

	t.Run("registration finished by another user with the cookie", func(t *testing.T) {
		x, y := ts.client(t), ts.client(t)
		ts.register(t, x)
		ts.register(t, y)
		_, opts := ts.beginRegistration(t, x)
		stolen := ceremonyCookie(ts, x)
		if stolen == "" {
			t.Fatal("beginPasskeyRegistration set no ceremony cookie")
		}
		putCeremonyCookie(ts, y, stolen)
		answer := attestation(t, appRP, newSoftKey(virtualwebauthn.AuthenticatorOptions{}), opts)
		expectRefused(t, "X's registration finished under Y's session", ts.finishRegistration(t, y, "Stolen", answer))
		if n, m := len(ts.passkeys(t, x)), len(ts.passkeys(t, y)); n != 0 || m != 0 {
			t.Fatalf("X has %d passkeys, Y %d; want none", n, m)
		}
	})

	t.Run("registration with a sign-in ceremony's cookie", func(t *testing.T) {
		x := ts.client(t)
		ts.register(t, x)
		_, reg := ts.beginRegistration(t, x)
		_, _ = ts.beginSignIn(t, x) // replaces the cookie with a sign-in ceremony's
		expectRefused(t, "a registration finished under a sign-in ceremony",
			ts.finishRegistration(t, x, "Mixed", attestation(t, appRP, newSoftKey(virtualwebauthn.AuthenticatorOptions{}), reg)))
		if n := len(ts.passkeys(t, x)); n != 0 {
			t.Fatalf("%d passkeys, want none", n)
		}
	})
}

func TestPasskeyCeremonyIsSpentByAnyFinish(t *testing.T) {
	ts := startServer(t, passkeyEnv("LOGIN_LIMIT_PER_IP", "1000", "LOGIN_LIMIT_PER_EMAIL", "1000"))
	owner := ts.client(t)
	u, _ := ts.register(t, owner)
	k, _ := ts.addPasskey(t, owner, "Laptop")

	t.Run("a replayed assertion", func(t *testing.T) {
		b := ts.client(t)
		_, opts := ts.beginSignIn(t, b)
		spent := ceremonyCookie(ts, b)
		answer := assertion(t, appRP, k, opts)
		ts.expectSignedIn(t, "the first finish", b, ts.finishSignIn(t, b, answer), u)
		for _, replay := range []struct {
			name   string
			client func() *http.Client
		}{
			{"from the same browser", func() *http.Client { return b }},
			{"with the spent ceremony cookie", func() *http.Client { return ts.withCookie(t, ceremonyCookieName, spent) }},
			{"with a fresh ceremony's cookie", func() *http.Client { c := ts.client(t); ts.beginSignIn(t, c); return c }},
		} {
			c := replay.client()
			expectRefused(t, "the same assertion again "+replay.name, ts.finishSignIn(t, c, answer))
		}
	})

	t.Run("a failed finish spends the ceremony", func(t *testing.T) {
		b := ts.client(t)
		_, opts := ts.beginSignIn(t, b)
		cookie := ceremonyCookie(ts, b)
		expectRefused(t, "an assertion from another origin",
			ts.finishSignIn(t, b, assertion(t, virtualwebauthn.RelyingParty{ID: "app.test", Origin: "http://evil.test:5173"}, k, opts)))
		putCeremonyCookie(ts, b, cookie) // kept, as a client that ignores the expiry would
		expectRefused(t, "the right assertion after a failed one, same cookie", ts.finishSignIn(t, b, assertion(t, appRP, k, opts)))
		if ts.me(t, b) != nil {
			t.Fatal("signed in after a spent ceremony")
		}
	})

	t.Run("a registration replayed", func(t *testing.T) {
		c := ts.client(t)
		ts.register(t, c)
		_, opts := ts.beginRegistration(t, c)
		cookie := ceremonyCookie(ts, c)
		answer := attestation(t, appRP, newSoftKey(virtualwebauthn.AuthenticatorOptions{}), opts)
		if r := ts.finishRegistration(t, c, "Once", answer); len(r.Errors) > 0 {
			t.Fatalf("finishPasskeyRegistration: %+v", r.Errors)
		}
		putCeremonyCookie(ts, c, cookie)
		expectRefused(t, "the same attestation again with the same cookie", ts.finishRegistration(t, c, "Twice", answer))
		if n := len(ts.passkeys(t, c)); n != 1 {
			t.Fatalf("%d passkeys, want 1", n)
		}
	})

	t.Run("one assertion sent at once from many requests", func(t *testing.T) {
		b := ts.client(t)
		_, opts := ts.beginSignIn(t, b)
		cookie := ceremonyCookie(ts, b)
		answer := assertion(t, appRP, k, opts)
		const n = 8
		clients := make([]*http.Client, n)
		for i := range clients {
			clients[i] = ts.withCookie(t, ceremonyCookieName, cookie)
		}
		rs, errs := make([]gqlResponse, n), make([]error, n)
		startTogether(n, func(i int) {
			rs[i], errs[i] = ts.tryGQL(clients[i], finishPasskeySignInMutation, map[string]any{"c": answer})
		})
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
			t.Fatalf("%d of %d finishes of one ceremony signed in, want 1", won, n)
		}
	})
}

func TestPasskeySignInRefusesBadAssertions(t *testing.T) {
	ts := startServer(t, passkeyEnv("LOGIN_LIMIT_PER_IP", "1000", "LOGIN_LIMIT_PER_EMAIL", "1000"))
	owner := ts.client(t)
	u, _ := ts.register(t, owner)
	k, _ := ts.addPasskey(t, owner, "Laptop")
	otherClient := ts.client(t)
	ts.register(t, otherClient)
	_, otherOpts := ts.beginRegistration(t, otherClient)

	with := func(change func(k *softKey)) softKey {
		bad := k
		bad.auth.Options.UserHandle = slices.Clone(k.auth.Options.UserHandle)
		change(&bad)
		return bad
	}
	anotherKey := newCredential()
	tests := []struct {
		name string
		rp   virtualwebauthn.RelyingParty
		key  softKey
	}{
		{"another origin", virtualwebauthn.RelyingParty{ID: "app.test", Origin: "http://evil.test:5173"}, k},
		{"another port", virtualwebauthn.RelyingParty{ID: "app.test", Origin: "http://app.test:5174"}, k},
		{"another scheme", virtualwebauthn.RelyingParty{ID: "app.test", Origin: "https://app.test:5173"}, k},
		{"another relying party id", virtualwebauthn.RelyingParty{ID: "evil.test", Origin: appURL}, k},
		{"no user verification", appRP, with(func(k *softKey) { k.auth.Options.UserNotVerified = true })},
		{"no user presence", appRP, with(func(k *softKey) { k.auth.Options.UserNotPresent = true })},
		{"another user's handle", appRP, with(func(k *softKey) { k.auth.Options.UserHandle = []byte(otherOpts.UserID) })},
		{"no user handle", appRP, with(func(k *softKey) { k.auth.Options.UserHandle = nil })},
		{"an unregistered credential", appRP, with(func(k *softKey) { k.cred = newCredential() })},
		{"the credential's id signed by another key", appRP, with(func(k *softKey) { k.cred = virtualwebauthn.Credential{ID: k.cred.ID, Key: anotherKey.Key} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ts.client(t)
			_, opts := ts.beginSignIn(t, b)
			expectRefused(t, tt.name, ts.finishSignIn(t, b, assertion(t, tt.rp, tt.key, opts)))
			if ts.me(t, b) != nil {
				t.Fatal("signed in")
			}
		})
	}
	b := ts.client(t)
	ts.expectSignedIn(t, "the key as registered", b, ts.signInWithPasskey(t, b, k), u)
	if list := ts.passkeys(t, owner); len(list) != 1 || list[0].ID != k.id() {
		t.Fatalf("passkeys = %+v, want only %s", list, k.id())
	}
}

func TestPasskeyRegistrationRefusesBadAttestations(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	tests := []struct {
		name string
		rp   virtualwebauthn.RelyingParty
		opts virtualwebauthn.AuthenticatorOptions
	}{
		{"another origin", virtualwebauthn.RelyingParty{ID: "app.test", Origin: "http://evil.test:5173"}, virtualwebauthn.AuthenticatorOptions{}},
		{"another scheme", virtualwebauthn.RelyingParty{ID: "app.test", Origin: "https://app.test:5173"}, virtualwebauthn.AuthenticatorOptions{}},
		{"another relying party id", virtualwebauthn.RelyingParty{ID: "evil.test", Origin: appURL}, virtualwebauthn.AuthenticatorOptions{}},
		{"no user verification", appRP, virtualwebauthn.AuthenticatorOptions{UserNotVerified: true}},
		{"no user presence", appRP, virtualwebauthn.AuthenticatorOptions{UserNotPresent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.client(t)
			ts.register(t, c)
			_, opts := ts.beginRegistration(t, c)
			expectRefused(t, tt.name, ts.finishRegistration(t, c, "Refused", attestation(t, tt.rp, newSoftKey(tt.opts), opts)))
			if list := ts.passkeys(t, c); len(list) != 0 {
				t.Fatalf("passkeys = %+v after a refused registration, want none", list)
			}
		})
	}
}

func TestRemovedPasskeyNoLongerSignsIn(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	owner := ts.client(t)
	u, _ := ts.register(t, owner)
	k, p := ts.addPasskey(t, owner, "Laptop")
	kept, _ := ts.addPasskey(t, owner, "Phone")

	var removed bool
	ts.gql(t, owner, removePasskeyMutation, map[string]any{"id": p.ID}).decode(t, "removePasskey", &removed)
	if !removed {
		t.Fatal("removePasskey of the user's own passkey = false")
	}
	if list := ts.passkeys(t, owner); len(list) != 1 || list[0].ID != kept.id() {
		t.Fatalf("passkeys after removing %s = %+v, want only %s", p.ID, list, kept.id())
	}
	expectRefused(t, "a sign-in with the removed passkey", ts.signInWithPasskey(t, ts.client(t), k))
	b := ts.client(t)
	ts.expectSignedIn(t, "a sign-in with the other passkey", b, ts.signInWithPasskey(t, b, kept), u)
	ts.gql(t, owner, removePasskeyMutation, map[string]any{"id": p.ID}).decode(t, "removePasskey", &removed)
	if removed {
		t.Fatal("removePasskey of an already removed passkey = true")
	}
	if got := kinds(ts.securityLog(t, owner, 20)); !slices.Contains(got, "PASSKEY_REMOVED") || slices.Index(got, "PASSKEY_REMOVED") > slices.Index(got, "PASSKEY_ADDED") {
		t.Fatalf("log, newest first: %v, want PASSKEY_REMOVED after the PASSKEY_ADDED events", got)
	}
}

func TestRemovePasskeyOfAnotherUserChangesNothing(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	owner, other := ts.client(t), ts.client(t)
	u, _ := ts.register(t, owner)
	ts.register(t, other)
	k, p := ts.addPasskey(t, owner, "Laptop")
	theirs, _ := ts.addPasskey(t, other, "Theirs")

	for _, id := range []string{p.ID, "unknown", base64.RawURLEncoding.EncodeToString([]byte(randomHex(16))), ""} {
		var removed bool
		r := ts.gql(t, other, removePasskeyMutation, map[string]any{"id": id})
		if len(r.Errors) > 0 {
			t.Fatalf("removePasskey(%q) by another user: %+v, want false", id, r.Errors)
		}
		r.decode(t, "removePasskey", &removed)
		if removed {
			t.Fatalf("removePasskey(%q) by a user who does not own it = true", id)
		}
	}
	if list := ts.passkeys(t, owner); len(list) != 1 || list[0] != p {
		t.Fatalf("the owner's passkeys = %+v, want %+v still", list, p)
	}
	if list := ts.passkeys(t, other); len(list) != 1 || list[0].ID != theirs.id() {
		t.Fatalf("the other user's passkeys = %+v, want their own only", list)
	}
	b := ts.client(t)
	ts.expectSignedIn(t, "the owner's passkey after another user tried to remove it", b, ts.signInWithPasskey(t, b, k), u)
	if got := kinds(ts.securityLog(t, other, 20)); slices.Contains(got, "PASSKEY_REMOVED") {
		t.Fatalf("the other user's log %v has PASSKEY_REMOVED for removals that answered false", got)
	}
}

func TestPasskeyCeremoniesFinishOnAnotherInstance(t *testing.T) {
	a := startServer(t, passkeyEnv())
	b := startServer(t, passkeyEnv("REDIS_URL", a.Env["REDIS_URL"], "MONGODB_DATABASE", a.Env["MONGODB_DATABASE"]))
	// Both instances are on 127.0.0.1: a cookie jar, which ignores ports,
	// sends what one set to the other, as one site behind a balancer.
	c := a.client(t)
	u, _ := a.register(t, c)

	k := newSoftKey(virtualwebauthn.AuthenticatorOptions{})
	_, opts := a.beginRegistration(t, c)
	r := b.finishRegistration(t, c, "Laptop", attestation(t, appRP, k, opts))
	if len(r.Errors) > 0 {
		t.Fatalf("finishPasskeyRegistration on B after the begin on A: %+v", r.Errors)
	}
	if list := a.passkeys(t, c); len(list) != 1 || list[0].ID != k.id() {
		t.Fatalf("passkeys on A = %+v, want %s", list, k.id())
	}
	k.auth.Options.UserHandle = []byte(opts.UserID)
	k.auth.AddCredential(k.cred)

	d := a.client(t)
	_, signOpts := a.beginSignIn(t, d)
	cookie := ceremonyCookie(a, d)
	answer := assertion(t, appRP, k, signOpts)
	b.expectSignedIn(t, "finishPasskeySignIn on B after the begin on A", d, b.finishSignIn(t, d, answer), u)
	if me := a.me(t, d); me == nil || me.ID != u.ID {
		t.Fatalf("me on A = %+v, want %s", me, u.ID)
	}
	expectRefused(t, "the same ceremony finished again on A", a.finishSignIn(t, a.withCookie(t, ceremonyCookieName, cookie), answer))
}

func TestPasskeyNameIsTrimmedAndBounded(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	c := ts.client(t)
	ts.register(t, c)
	tests := []struct {
		name, stored string // stored "" for a refused name
	}{
		{"", ""},
		{"  ", ""},
		{"\t\n", ""},
		{strings.Repeat("x", 101), ""},
		{"  " + strings.Repeat("x", 101) + "  ", ""},
		{"  Work laptop  ", "Work laptop"},
		{strings.Repeat("x", 100), strings.Repeat("x", 100)},
		{" " + strings.Repeat("y", 100) + " ", strings.Repeat("y", 100)},
		{strings.Repeat("é", 100), strings.Repeat("é", 100)}, // characters, not bytes
		{"a", "a"},
	}
	want := 0
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.name), func(t *testing.T) {
			_, opts := ts.beginRegistration(t, c)
			k := newSoftKey(virtualwebauthn.AuthenticatorOptions{})
			r := ts.finishRegistration(t, c, tt.name, attestation(t, appRP, k, opts))
			if tt.stored == "" {
				if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "name" {
					t.Fatalf("name %q: %+v, want BAD_USER_INPUT on field name", tt.name, r.Errors)
				}
			} else {
				if len(r.Errors) > 0 {
					t.Fatalf("name %q: %+v", tt.name, r.Errors)
				}
				var p passkeyInfo
				r.decode(t, "finishPasskeyRegistration", &p)
				if p.Name != tt.stored {
					t.Fatalf("name %q stored as %q, want %q", tt.name, p.Name, tt.stored)
				}
				want++
			}
			list := ts.passkeys(t, c)
			if len(list) != want {
				t.Fatalf("%d passkeys, want %d", len(list), want)
			}
			if tt.stored != "" && !slices.ContainsFunc(list, func(p passkeyInfo) bool { return p.ID == k.id() && p.Name == tt.stored }) {
				t.Fatalf("passkeys = %+v, want %s named %q", list, k.id(), tt.stored)
			}
		})
	}
}

func TestPasskeyRegistrationExcludesTheUsersPasskeys(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	c, other := ts.client(t), ts.client(t)
	ts.register(t, c)
	ts.register(t, other)
	if _, opts := ts.beginRegistration(t, c); len(opts.ExcludeCredentials) != 0 {
		t.Fatalf("excludeCredentials of a user without passkeys: %v", opts.ExcludeCredentials)
	}
	first, _ := ts.addPasskey(t, c, "First")
	if _, opts := ts.beginRegistration(t, c); !slices.Equal(opts.ExcludeCredentials, []string{first.id()}) {
		t.Fatalf("excludeCredentials %v, want [%s]", opts.ExcludeCredentials, first.id())
	}
	second, _ := ts.addPasskey(t, c, "Second")
	_, opts := ts.beginRegistration(t, c)
	if got := slices.Sorted(slices.Values(opts.ExcludeCredentials)); !slices.Equal(got, slices.Sorted(slices.Values([]string{first.id(), second.id()}))) {
		t.Fatalf("excludeCredentials %v, want %s and %s", got, first.id(), second.id())
	}
	if _, theirs := ts.beginRegistration(t, other); len(theirs.ExcludeCredentials) != 0 {
		t.Fatalf("another user's excludeCredentials %v, want none", theirs.ExcludeCredentials)
	}

	// An authenticator that ignores the exclusion does not add the
	// credential twice.
	r := ts.finishRegistration(t, c, "Again", attestation(t, appRP, first, opts))
	if len(r.Errors) == 0 {
		t.Fatalf("registering %s a second time: %s, want an error", first.id(), r.Data["finishPasskeyRegistration"])
	}
	if n := len(ts.passkeys(t, c)); n != 2 {
		t.Fatalf("%d passkeys after registering one twice, want 2", n)
	}
}

func TestFailedPasskeySignInsAreThrottledPerAddress(t *testing.T) {
	ts := startServer(t, passkeyEnv("LOGIN_LIMIT_PER_IP", "3", "LOGIN_LIMIT_PER_EMAIL", "1000", "TRUSTED_PROXIES", "127.0.0.1/32"))
	owner := ts.client(t)
	u, _ := ts.register(t, owner)
	k, _ := ts.addPasskey(t, owner, "Laptop")
	const attacker, n = "203.0.113.5", 10

	// Each attempt is a whole ceremony of its own browser, with a key the
	// server does not know under the owner's handle.
	clients := make([]*http.Client, n)
	answers := make([]map[string]any, n)
	for i := range clients {
		clients[i] = ts.client(t)
		r, err := ts.gqlFrom(clients[i], attacker, beginPasskeySignInMutation, nil)
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("beginPasskeySignIn #%d: %v %+v", i, err, r.Errors)
		}
		opts, err := virtualwebauthn.ParseAssertionOptions(string(r.Data["beginPasskeySignIn"]))
		if err != nil {
			t.Fatal(err)
		}
		forged := newSoftKey(virtualwebauthn.AuthenticatorOptions{UserHandle: k.auth.Options.UserHandle})
		answers[i] = assertion(t, appRP, forged, opts)
	}
	rs, errs := make([]gqlResponse, n), make([]error, n)
	startTogether(n, func(i int) {
		rs[i], errs[i] = ts.gqlFrom(clients[i], attacker, finishPasskeySignInMutation, map[string]any{"c": answers[i]})
	})
	tallyThrottled(rs, errs, "INVALID_CREDENTIALS").expectChecked(t, 3)

	// Once limited, the address is refused even the right passkey; another
	// address is not.
	signIn := func(ip string) gqlResponse {
		c := ts.client(t)
		r, err := ts.gqlFrom(c, ip, beginPasskeySignInMutation, nil)
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("beginPasskeySignIn from %s: %v %+v", ip, err, r.Errors)
		}
		opts, err := virtualwebauthn.ParseAssertionOptions(string(r.Data["beginPasskeySignIn"]))
		if err != nil {
			t.Fatal(err)
		}
		r, err = ts.gqlFrom(c, ip, finishPasskeySignInMutation, map[string]any{"c": assertion(t, appRP, k, opts)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := signIn(attacker); r.code() != "RATE_LIMITED" || retryAfter(r) <= 0 {
		t.Fatalf("the right passkey from the limited address: %+v, want RATE_LIMITED with retryAfter", r.Errors)
	}
	r := signIn("203.0.113.6")
	if len(r.Errors) > 0 {
		t.Fatalf("the right passkey from another address: %+v", r.Errors)
	}
	var got user
	r.decode(t, "finishPasskeySignIn", &got)
	if got.ID != u.ID {
		t.Fatalf("finishPasskeySignIn = %+v, want %s", got, u.ID)
	}
}

func TestPasskeyAccountOperationsNeedASignedInUser(t *testing.T) {
	ts := startServer(t, passkeyEnv())
	owner := ts.client(t)
	ts.register(t, owner)
	_, p := ts.addPasskey(t, owner, "Laptop")
	anyCredential := map[string]any{"id": "x", "rawId": "x", "type": "public-key", "response": map[string]any{}}
	tests := []struct {
		name, query string
		vars        map[string]any
	}{
		{"beginPasskeyRegistration", beginPasskeyRegistrationMutation, nil},
		{"finishPasskeyRegistration", finishPasskeyRegistrationMutation, map[string]any{"n": "Mine", "c": anyCredential}},
		{"removePasskey", removePasskeyMutation, map[string]any{"id": p.ID}},
		{"passkeys", passkeysQuery, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.gql(t, ts.client(t), tt.query, tt.vars)
			if r.code() != "UNAUTHENTICATED" {
				t.Fatalf("anonymous %s: %+v, want UNAUTHENTICATED", tt.name, r.Errors)
			}
			if raw := rawSetCookie(r.HTTP, ceremonyCookieName); raw != "" {
				t.Fatalf("anonymous %s set a ceremony cookie %q", tt.name, raw)
			}
		})
	}
	if list := ts.passkeys(t, owner); len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("passkeys = %+v, want %s still", list, p.ID)
	}
}
