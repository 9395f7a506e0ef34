package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSRFPreventionRefusesSimpleRequestsWithoutSideEffects(t *testing.T) {
	ts := startServer(t, nil)
	email := "csrf-" + randomHex(4) + "@example.com"
	body := string(mustJSON(t, map[string]any{
		"query":     registerMutation,
		"variables": map[string]any{"i": map[string]any{"email": email, "password": "password-123", "name": "Victim"}},
	}))
	form := url.Values{"query": {registerMutation}}.Encode()
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		query       string
		headers     map[string]string
		want        int
	}{
		{"text/plain POST", http.MethodPost, "text/plain", body, "", nil, http.StatusBadRequest},
		{"text/plain with charset", http.MethodPost, "text/plain;charset=UTF-8", body, "", nil, http.StatusBadRequest},
		{"form POST", http.MethodPost, "application/x-www-form-urlencoded", form, "", nil, http.StatusBadRequest},
		{"multipart POST", http.MethodPost, "multipart/form-data; boundary=x", "--x--", "", nil, http.StatusBadRequest},
		{"no content type", http.MethodPost, "", body, "", nil, http.StatusBadRequest},
		{"GET without header", http.MethodGet, "", "", "query=" + url.QueryEscape("{ me { id } }"), nil, http.StatusBadRequest},
		{"GET with empty header", http.MethodGet, "", "", "query=" + url.QueryEscape("{ me { id } }"), map[string]string{"Apollo-Require-Preflight": ""}, http.StatusBadRequest},
		{"GET query with preflight header", http.MethodGet, "", "", "query=" + url.QueryEscape("{ me { id } }"), map[string]string{"Apollo-Require-Preflight": "true"}, http.StatusOK},
		{"GET query with operation-name header", http.MethodGet, "", "", "query=" + url.QueryEscape("query Me { me { id } }"), map[string]string{"X-Apollo-Operation-Name": "Me"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+"/graphql?"+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.want, b)
			}
			if len(resp.Header.Values("Set-Cookie")) != 0 {
				t.Errorf("refused request set a cookie")
			}
		})
	}
	// None of the refused registrations happened: the email is still free.
	c := ts.client(t)
	r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": email, "password": "password-123", "name": "Victim"}})
	if len(r.Errors) > 0 {
		t.Fatalf("register after refused CSRF attempts: %+v (a refused request had a side effect)", r.Errors)
	}
}

func TestGETRunsQueriesOnly(t *testing.T) {
	ts := startServer(t, nil)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/graphql?query="+url.QueryEscape(logoutMutation), nil)
	req.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("GET mutation status = %d, want a 4xx refusal", resp.StatusCode)
	}
}

func TestCORSAllowsOnlyListedOrigins(t *testing.T) {
	ts := startServer(t, map[string]string{"CORS_ORIGINS": "http://app.test:5173,https://admin.example.com"})
	tests := []struct {
		name      string
		origin    string
		preflight bool
		allowed   bool
	}{
		{"listed origin", "http://app.test:5173", false, true},
		{"second listed origin", "https://admin.example.com", false, true},
		{"unknown origin", "https://evil.example", false, false},
		{"listed host other scheme", "https://app.test:5173", false, false},
		{"null origin", "null", false, false},
		{"preflight listed", "http://app.test:5173", true, true},
		{"preflight unknown", "https://evil.example", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req *http.Request
			if tt.preflight {
				req, _ = http.NewRequest(http.MethodOptions, ts.URL+"/graphql", nil)
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "apollo-require-preflight,content-type")
			} else {
				req, _ = http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Origin", tt.origin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			acac := resp.Header.Get("Access-Control-Allow-Credentials")
			if !tt.allowed {
				for k := range resp.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("unknown origin got %s: %q", k, resp.Header.Get(k))
					}
				}
				return
			}
			if acao != tt.origin || acac != "true" {
				t.Fatalf("ACAO=%q ACAC=%q, want %q and true", acao, acac, tt.origin)
			}
			if tt.preflight {
				methods := resp.Header.Get("Access-Control-Allow-Methods")
				headers := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
				if !strings.Contains(methods, "POST") || !strings.Contains(headers, "apollo-require-preflight") || !strings.Contains(headers, "content-type") {
					t.Errorf("preflight allows methods %q headers %q", methods, headers)
				}
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	r := ts.gql(t, c, `{ __typename }`, nil)
	h := r.HTTP.Header
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("/graphql Cache-Control = %q, want no-store", h.Get("Cache-Control"))
	}
	vary := strings.Join(h.Values("Vary"), ",")
	if !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Origin") {
		t.Errorf("/graphql Vary = %q, want Cookie and Origin", vary)
	}
	for _, path := range []string{"/", "/graphql", "/healthz", "/readyz", "/nope"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: nosniff %q, Referrer-Policy %q", path, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Referrer-Policy"))
		}
		if path == "/" {
			csp := resp.Header.Get("Content-Security-Policy")
			if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("playground: status %d, CSP %q", resp.StatusCode, csp)
			}
		}
	}
}

func TestResponseMediaTypeFollowsAccept(t *testing.T) {
	ts := startServer(t, nil)
	for accept, want := range map[string]string{
		"application/graphql-response+json": "application/graphql-response+json",
		"application/json":                  "application/json",
		"":                                  "application/json",
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, want) {
			t.Errorf("Accept %q: Content-Type %q, want %q", accept, got, want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	ts := startServer(t, nil)
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	checkReady := func(wantStatus int, wantRedis string) {
		t.Helper()
		status, body := ts.readiness(t)
		if status != wantStatus || body["redis"] != wantRedis || body["mongodb"] != "ok" {
			t.Fatalf("/readyz = %d %v, want %d with redis %s and mongodb ok", status, body, wantStatus, wantRedis)
		}
	}
	checkReady(200, "ok")
	ts.needSingleRedis(t)
	ts.Redis.Stop(t)
	checkReady(503, "unavailable")
	ts.Redis.Restart(t)
	checkReady(200, "ok")
}

func TestOversizedBodyIsRefused(t *testing.T) {
	ts := startServer(t, nil)
	body := func(n int) string {
		return `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", n) + `"}}`
	}
	tests := []struct {
		name    string
		body    string
		chunked bool // no Content-Length: the server learns the size by reading
		want    int
	}{
		{"2 MiB with its length declared", body(2 << 20), false, http.StatusRequestEntityTooLarge},
		{"2 MiB chunked", body(2 << 20), true, http.StatusRequestEntityTooLarge},
		{"just under 1 MiB declared", body(1<<20 - 100), false, http.StatusOK},
		{"just under 1 MiB chunked", body(1<<20 - 100), true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length from net/http
			}
			r := ts.do(t, http.DefaultClient, jsonPost(ts.URL, body))
			if r.HTTP.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %+v", r.HTTP.StatusCode, tt.want, r.Errors)
			}
			if tt.want == http.StatusOK && string(r.Data["__typename"]) != `"Query"` {
				t.Fatalf("data %s, want the query answered", r.Data["__typename"])
			}
			if tt.want != http.StatusOK && r.code() != "BAD_USER_INPUT" {
				t.Fatalf("errors %+v, want BAD_USER_INPUT", r.Errors)
			}
		})
	}
}

// jsonPost is a POST of body to the server's /graphql as JSON.
func jsonPost(base string, body io.Reader) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// rawExchange sends request as written to addr, stops writing when
// closeWrite, and returns the answer's status and body.
func rawExchange(t *testing.T, addr, request string, closeWrite bool) (int, string) {
	t.Helper()
	resp, body := rawResponse(t, addr, request, closeWrite)
	return resp.StatusCode, string(body)
}

// rawResponse is rawExchange's answer whole: the response, its body read.
func rawResponse(t *testing.T, addr, request string, closeWrite bool) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, request)
	if closeWrite {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// stalledPost declares a 100-byte JSON body and sends only body.
func stalledPost(body string) string {
	return "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" + body
}

func TestBodyCutShortIsRefusedCleanly(t *testing.T) {
	ts := startServer(t, nil)
	// 100 bytes declared, 26 sent, then the client stops writing.
	status, body := rawExchange(t, strings.TrimPrefix(ts.URL, "http://"), stalledPost(`{"query":"{ __typename }"}`), true)
	if status != http.StatusBadRequest || !strings.Contains(body, `"BAD_USER_INPUT"`) {
		t.Fatalf("status %d %s, want 400 BAD_USER_INPUT", status, body)
	}
	if strings.Contains(body, "EOF") || strings.Contains(body, "127.0.0.1") {
		t.Fatalf("the read error's text reached the client: %s", body)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	var reached atomic.Bool
	srv := httptest.NewServer(limitBody(maxBodyBytes, 200*time.Millisecond)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		reached.Store(true)
	})))
	defer srv.Close()
	// 100 bytes declared, 10 sent, and the client keeps the connection open.
	status, body := rawExchange(t, srv.Listener.Addr().String(), stalledPost(`{"query":`), false)
	if status != http.StatusBadRequest || !strings.Contains(body, `"BAD_USER_INPUT"`) {
		t.Fatalf("status %d %s, want 400 BAD_USER_INPUT", status, body)
	}
	if reached.Load() {
		t.Fatal("the handler ran on a partial body")
	}
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	ts := startServer(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Well past headerReadTimeout: only a server that never gives up hits it.
	_ = conn.SetDeadline(time.Now().Add(headerReadTimeout + 15*time.Second))
	start := time.Now()
	_, _ = io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the server kept a connection with unfinished headers open for %v: %v", time.Since(start), err)
	}
	t.Logf("closed after %v (header timeout %v), sent %q", time.Since(start).Round(time.Millisecond), headerReadTimeout, got)
}

func TestRequestErrorsAreTheClients(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name     string
		body     string
		wantCode string
	}{
		{"malformed JSON", `{"query": "{ me { id } }", "variables": {"password": "hunter2-secret"`, "BAD_USER_INPUT"},
		{"wrong JSON shape", `{"query": 42, "variables": {"password": "hunter2-secret"}}`, "BAD_USER_INPUT"},
		{"syntax error", `{"query": "{ me { id "}`, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", `{"query": "{ nope }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"variable of wrong type", `{"query": "mutation($i: LoginInput!) { login(input: $i) { id } }", "variables": {"i": {"email": 5, "password": true}}}`, "GRAPHQL_VALIDATION_FAILED"},
		{"missing variable", `{"query": "mutation($i: LoginInput!) { login(input: $i) { id } }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation", `{"query": "query A { me { id } }", "operationName": "B"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("status %d for a client error: %s", resp.StatusCode, raw)
			}
			if strings.Contains(string(raw), "hunter2") {
				t.Fatalf("the response echoes the request body: %s", raw)
			}
			var out gqlResponse
			if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) == 0 {
				t.Fatalf("want a GraphQL error, got %s", raw)
			}
			code := out.code()
			if code == "" || code == "INTERNAL_SERVER_ERROR" || (tt.wantCode != "" && code != tt.wantCode) {
				t.Fatalf("code %q, want %q (body %s)", code, tt.wantCode, raw)
			}
		})
	}
}

func TestDepthLimitRefusesDeepQueriesButNotIntrospection(t *testing.T) {
	ts := startServer(t, map[string]string{"GRAPHQL_MAX_DEPTH": "1"})
	c := ts.client(t)
	if r := ts.gql(t, c, `{ __typename }`, nil); len(r.Errors) > 0 {
		t.Fatalf("depth 1 refused: %+v", r.Errors)
	}
	for _, q := range []string{
		`{ me { id } }`,
		`query { ...F } fragment F on Query { me { ... on User { id } } }`,
	} {
		r := ts.gql(t, c, q, nil)
		if r.code() != "GRAPHQL_VALIDATION_FAILED" || r.Data["me"] != nil {
			t.Fatalf("%s: code %q data %v, want refused before running", q, r.code(), r.Data)
		}
	}
	if r := ts.gql(t, c, introspectionQuery, nil); len(r.Errors) > 0 {
		t.Fatalf("standard introspection refused: %+v", r.Errors)
	}
}

func TestIntrospectionCanBeTurnedOff(t *testing.T) {
	ts := startServer(t, map[string]string{"GRAPHQL_INTROSPECTION": "false"})
	r := ts.gql(t, ts.client(t), `{ __schema { types { name } } }`, nil)
	if len(r.Errors) == 0 {
		t.Fatal("introspection answered with GRAPHQL_INTROSPECTION=false")
	}
}

// introspectionQuery is the query GraphiQL and graphql-js's
// getIntrospectionQuery() send.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestHostileQueriesAreRefusedCheaply(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	for name, q := range map[string]string{
		"8000 same-named aliases": "{" + strings.Repeat(" a: __typename", 8000) + " }",
		"10,000 fields":           "{" + strings.Repeat(" __typename", 10_000) + " }",
	} {
		start := time.Now()
		r := ts.gql(t, c, q, nil)
		if len(r.Errors) == 0 || r.HTTP.StatusCode >= 500 || r.code() == "INTERNAL_SERVER_ERROR" {
			t.Fatalf("%s: status %d, errors %+v, want a client error", name, r.HTTP.StatusCode, r.Errors)
		}
		t.Logf("%s refused in %v (%s)", name, time.Since(start), r.code())
	}
}

// Batched operations (a JSON array of requests) are not supported: a batch
// of any size is one cheap 400, and nothing in it runs.
func TestBatchesAreRefused(t *testing.T) {
	ts := startServer(t, nil)
	one := `{"query":"mutation { logout }"}`
	for _, n := range []int{1, 1000} {
		body := "[" + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + "]"
		r := ts.do(t, http.DefaultClient, jsonPost(ts.URL, strings.NewReader(body)))
		if _, ran := r.Data["logout"]; r.HTTP.StatusCode != http.StatusBadRequest || r.code() != "BAD_USER_INPUT" || ran {
			t.Fatalf("batch of %d: status %d, data %v, errors %+v; want 400 BAD_USER_INPUT and nothing run", n, r.HTTP.StatusCode, r.Data, r.Errors)
		}
	}
}

// GraphQL requests skip the mux; everything else still goes through it.
func TestRoutesOtherThanGraphQLGoThroughTheMux(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		method, path string
		status       int
		allow        string // the Allow header a 405 must carry
	}{
		{http.MethodPut, "/graphql", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodDelete, "/graphql", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPost, "/graphql/", http.StatusNotFound, ""},
		{http.MethodPost, "/GRAPHQL", http.StatusNotFound, ""},
		{http.MethodHead, "/graphql", http.StatusBadRequest, ""}, // the GraphQL handler: no query
		{http.MethodGet, "/healthz", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(`{"query":"{ __typename }"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Allow"); tt.allow != "" && got != tt.allow {
				t.Fatalf("Allow %q, want %q", got, tt.allow)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatal("security headers missing")
			}
		})
	}
}
