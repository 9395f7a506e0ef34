package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goText matches what a message must never show a client: Go's kinds and
// type names, the JSON decoder's wording, gqlgen's internals.
var goText = regexp.MustCompile(`\b(bool|int|int32|int64|uint\w*|float32|float64|map|slice|ptr|struct|interface|json\.Number|RawParams|graphql\.\w+|unmarshal|Go value|Go struct|EOF)\b|map\[|\[\]|json: |invalid character|looking for`)

// checkPlainError fails unless r is one GraphQL error with code that shows
// neither Go nor the secret.
func checkPlainError(t *testing.T, r gqlResponse, status int, code string) {
	t.Helper()
	if r.HTTP.StatusCode != status || len(r.Errors) != 1 || r.code() != code {
		t.Fatalf("status %d, errors %+v; want %d with one %s", r.HTTP.StatusCode, r.Errors, status, code)
	}
	msg := r.Errors[0].Message
	if m := goText.FindString(msg); m != "" {
		t.Fatalf("message %q shows %q", msg, m)
	}
	if strings.Contains(msg, "hunter2") {
		t.Fatalf("message %q repeats the request", msg)
	}
	if ct := r.HTTP.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
}

// A body that is not a GraphQL-over-HTTP request is the client's mistake:
// 400, BAD_USER_INPUT, and a message in the protocol's terms.
func TestBodiesThatAreNotGraphQLRequestsAreRefusedPlainly(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct{ name, body string }{
		{"batch of one", `[{"query":"{ __typename }"}]`},
		{"empty batch", `[]`},
		{"null", `null`},
		{"a string", `"hunter2"`},
		{"a number", `42`},
		{"empty body", ``},
		{"white space", " \r\n"},
		{"cut-off JSON", `{"query":"{ __typename }","variables":{"p":"hunter2"`},
		{"not JSON", `query=hunter2`},
		{"query a number", `{"query":42,"variables":{"p":"hunter2"}}`},
		{"query an object", `{"query":{"hunter2":1}}`},
		{"variables a list", `{"query":"{ __typename }","variables":["hunter2"]}`},
		{"variables a string", `{"query":"{ __typename }","variables":"hunter2"}`},
		{"operationName a number", `{"query":"{ __typename }","operationName":5}`},
		{"extensions a list", `{"query":"{ __typename }","extensions":["hunter2"]}`},
		{"extensions a string", `{"query":"{ __typename }","extensions":"hunter2"}`},
	}
	for _, tt := range tests {
		for _, accept := range []string{"", "application/graphql-response+json"} {
			t.Run(tt.name+" "+accept, func(t *testing.T) {
				req := jsonPost(ts.URL, strings.NewReader(tt.body))
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				r := ts.do(t, http.DefaultClient, req)
				checkPlainError(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
				if r.Data != nil {
					t.Fatalf("data %v, want none", r.Data)
				}
			})
		}
	}
}

// A variable of the wrong type is a validation error whose message speaks
// of GraphQL and JSON types, never of how Go decoded the value. It is a
// request error: 200 to an application/json client, 400 to an
// application/graphql-response+json one (GraphQL over HTTP).
func TestVariableErrorsNameNoGoType(t *testing.T) {
	ts := startServer(t, nil)
	const login = `mutation($i: LoginInput!) { login(input: $i) { id } }`
	tests := []struct {
		name, query, variables string
		want                   string // in the message
	}{
		{"boolean for a String", login, `{"i":{"email":"a@example.com","password":true}}`, `"$i.password" must be a String, not a boolean`},
		{"object for a String", login, `{"i":{"email":"a@example.com","password":{"hunter2":1}}}`, `"$i.password" must be a String, not an object`},
		{"list for a String", login, `{"i":{"email":"a@example.com","password":["hunter2"]}}`, `"$i.password" must be a String, not a list`},
		{"string for an input", login, `{"i":"hunter2"}`, `"$i" must be a LoginInput object, not a string`},
		{"list for an input", login, `{"i":["hunter2"]}`, `"$i" must be a LoginInput object, not a list`},
		{"number for an input", login, `{"i":7}`, `"$i" must be a LoginInput object, not a number`},
		{"string for an Int", `query($n: Int) { dueCards(limit: $n) { id } }`, `{"n":"hunter2"}`, `"$n" must be an Int, not a string`},
		{"fraction for an Int", `query($n: Int) { dueCards(limit: $n) { id } }`, `{"n":1.5}`, `"$n" must be an Int: a whole number`},
		{"huge number for an Int", `query($n: Int) { dueCards(limit: $n) { id } }`, `{"n":123456789012345678901234567890}`, `"$n" must be an Int: a whole number`},
		{"boolean for an ID", `query($d: ID) { dueCards(deckId: $d) { id } }`, `{"d":true}`, `"$d" must be an ID, not a boolean`},
		{"string for a Boolean", `query($f: Boolean!) { me @include(if: $f) { id } }`, `{"f":"hunter2"}`, `"$f" must be a Boolean, not a string`},
		{"number for a Boolean", `query($f: Boolean!) { me @include(if: $f) { id } }`, `{"f":1}`, `"$f" must be a Boolean, not a number`},
		{"null for a non-null", `query($f: Boolean!) { me @include(if: $f) { id } }`, `{"f":null}`, `cannot be null`},
	}
	for _, tt := range tests {
		for accept, status := range map[string]int{"": http.StatusOK, "application/graphql-response+json": http.StatusBadRequest} {
			t.Run(tt.name+" "+accept, func(t *testing.T) {
				body := `{"query":` + string(mustJSON(t, tt.query)) + `,"variables":` + tt.variables + `}`
				req := jsonPost(ts.URL, strings.NewReader(body))
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				r := ts.do(t, http.DefaultClient, req)
				checkPlainError(t, r, status, "GRAPHQL_VALIDATION_FAILED")
				if !strings.Contains(r.Errors[0].Message, tt.want) {
					t.Fatalf("message %q, want it to say %q", r.Errors[0].Message, tt.want)
				}
			})
		}
	}
}

// GET parameters that are not what GraphQL over HTTP asks for are refused
// like bad POST bodies, with a code and in JSON.
func TestGETParametersThatAreNotJSONObjectsAreRefused(t *testing.T) {
	ts := startServer(t, nil)
	q := "query=" + url.QueryEscape("{ __typename }")
	tests := []struct{ name, rawQuery string }{
		{"variables not JSON", q + "&variables=hunter2"},
		{"variables a list", q + "&variables=" + url.QueryEscape(`["hunter2"]`)},
		{"variables cut off", q + "&variables=" + url.QueryEscape(`{"p":"hunter2"`)},
		{"extensions a list", q + "&extensions=" + url.QueryEscape(`["hunter2"]`)},
		{"bad escape", q + "&variables=%zzhunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql?"+tt.rawQuery, nil)
			req.Header.Set("Apollo-Require-Preflight", "true")
			checkPlainError(t, ts.do(t, http.DefaultClient, req), http.StatusBadRequest, "BAD_USER_INPUT")
		})
	}
}

// A subscription needs a websocket. Over HTTP it is refused at once, signed
// in or not, whatever the Accept header: nothing waits for an event.
func TestSubscriptionsOverHTTPAreRefusedAtOnce(t *testing.T) {
	ts := startServer(t, nil)
	signedIn := ts.client(t)
	ts.register(t, signedIn)
	signedIn.Timeout = 5 * time.Second
	anonymous := &http.Client{Timeout: 5 * time.Second}
	const sub = `subscription { sessionEnded { reason } }`
	post := func(accept string) *http.Request {
		req := jsonPost(ts.URL, strings.NewReader(`{"query":"`+sub+`"}`))
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return req
	}
	get := func(accept string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql?query="+url.QueryEscape(sub), nil)
		req.Header.Set("Apollo-Require-Preflight", "true")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return req
	}
	for _, accept := range []string{"", "application/json", "application/graphql-response+json", "text/event-stream", "multipart/mixed;subscriptionSpec=1.0, application/json"} {
		for name, c := range map[string]*http.Client{"signed in": signedIn, "anonymous": anonymous} {
			for method, req := range map[string]func(string) *http.Request{"POST": post, "GET": get} {
				t.Run(name+" "+method+" "+accept, func(t *testing.T) {
					start := time.Now()
					r := ts.do(t, c, req(accept))
					checkPlainError(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
					if d := time.Since(start); d > 2*time.Second {
						t.Fatalf("refused after %v, want at once", d)
					}
				})
			}
		}
	}
	if ts.me(t, signedIn) == nil {
		t.Fatal("the refused subscriptions ended the session")
	}
}

// Every refusal at the edge, before GraphQL runs, is a GraphQL-shaped JSON
// error with a code, written the same way.
func TestEdgeRefusalsAreGraphQLErrors(t *testing.T) {
	ts := startServer(t, map[string]string{"CORS_ORIGINS": "http://app.test:5173"})
	addr := strings.TrimPrefix(ts.URL, "http://")
	csrfReq, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	csrfReq.Header.Set("Content-Type", "text/plain")
	tooBig := jsonPost(ts.URL, strings.NewReader(strings.Repeat(" ", 2<<20)))
	origin, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql", nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "https://evil.example"} {
		origin.Header.Set(k, v)
	}
	tests := []struct {
		name   string
		req    *http.Request
		raw    string // without req: sent as written, then half-closed
		status int
		code   string
	}{
		{"CSRF", csrfReq, "", http.StatusBadRequest, "BAD_REQUEST"},
		{"body too large", tooBig, "", http.StatusRequestEntityTooLarge, "BAD_USER_INPUT"},
		{"body cut short", nil, stalledPost(`{"query":"{ __typename }"}`), http.StatusBadRequest, "BAD_USER_INPUT"},
		{"websocket from a foreign origin", origin, "", http.StatusForbidden, "FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			if tt.req != nil {
				var err error
				if resp, err = http.DefaultClient.Do(tt.req); err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			} else {
				resp, body = rawResponse(t, addr, tt.raw, true)
			}
			var out struct {
				Errors []struct {
					Message    string            `json:"message"`
					Extensions map[string]string `json:"extensions"`
				} `json:"errors"`
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out); err != nil || len(out.Errors) != 1 || out.Errors[0].Message == "" {
				t.Fatalf("body %q (%v), want one GraphQL error", body, err)
			}
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != tt.status || out.Errors[0].Extensions["code"] != tt.code || ct != "application/json" {
				t.Fatalf("status %d, code %q, Content-Type %q; want %d, %s, application/json", resp.StatusCode, out.Errors[0].Extensions["code"], ct, tt.status, tt.code)
			}
		})
	}
}

// A declared length is a promise, not bytes: the server must not reserve
// memory for a body before it arrives. Many connections each declaring the
// largest allowed body and sending a few bytes hold a few KiB each, not
// 1 MiB.
func TestDeclaredBodiesReserveNoMemory(t *testing.T) {
	ts := startServer(t, nil)
	const conns = 200
	before := liveHeap()
	head := "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{\"query\":"
	for range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until every request's handler is waiting for its body.
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; n < conns; n = goroutinesIn("net/http.(*body).Read(") {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests reached the body reader within 20s", n, conns)
		}
		time.Sleep(50 * time.Millisecond)
	}
	grown := int64(liveHeap()) - int64(before)
	t.Logf("%d requests waiting for 1 MiB bodies: live heap grew %d KiB (%d bytes each)", conns, grown>>10, grown/conns)
	if limit := int64(conns) << 20 / 8; grown > limit {
		t.Fatalf("live heap grew %d MiB for %d unsent bodies, want under %d MiB: memory is reserved ahead of the bytes", grown>>20, conns, limit>>20)
	}
	if r := ts.gql(t, ts.client(t), `{ __typename }`, nil); string(r.Data["__typename"]) != `"Query"` {
		t.Fatalf("server answered %+v while bodies were pending", r)
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// goroutinesIn counts the goroutines whose stack has a frame in fn, a
// function's full name.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) {
			count++
		}
	}
	return count
}
