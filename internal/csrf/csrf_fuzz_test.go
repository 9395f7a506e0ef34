package csrf

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzPrevent checks Prevent against an independent statement of the rule:
// a request that reaches the handler is never one a browser sends cross-site
// without a preflight (a GET or HEAD that is not a websocket upgrade, or a
// POST whose Content-Type is missing or form-like) unless it carries a
// non-empty preflight header; and a request carrying one is never refused.
func FuzzPrevent(f *testing.F) {
	type seed struct{ method, contentType, preflight, opName, upgrade string }
	for _, s := range []seed{
		{"POST", "application/json", "", "", ""},
		{"POST", "application/json; charset=utf-8", "", "", ""},
		{"POST", "text/plain", "", "", ""},
		{"POST", "TEXT/PLAIN; charset=x", "", "", ""},
		{"POST", " text/plain ", "", "", ""},
		{"POST", "text/plain;", "", "", ""},
		{"POST", "application/x-www-form-urlencoded", "", "", ""},
		{"POST", "multipart/form-data; boundary=x", "", "", ""},
		{"POST", "", "", "", ""},
		{"POST", "text/plain;;==", "", "", ""},
		{"POST", "text/plain, application/json", "", "", ""},
		{"POST", "0", "", "", ""}, // no slash: Go's mime parses it, a browser does not
		{"POST", "text/plain\v", "", "", ""},
		{"POST", "application/json", "1", "", ""},
		{"POST", "text/plain", "", "Me", ""},
		{"GET", "", "", "", ""},
		{"GET", "", "1", "", ""},
		{"GET", "", "", "", "websocket"},
		{"GET", "", "", "", "WebSocket"},
		{"HEAD", "", "", "", ""},
		{"get", "", "", "", ""},
		{"OPTIONS", "", "", "", ""},
		{"PUT", "text/plain", "", "", ""},
	} {
		f.Add(s.method, s.contentType, s.preflight, s.opName, s.upgrade)
	}
	f.Fuzz(func(t *testing.T, method, contentType, preflight, opName, upgrade string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: "/graphql"}, Header: http.Header{}}
		for k, v := range map[string]string{
			"Content-Type":             contentType,
			"Apollo-Require-Preflight": preflight,
			"X-Apollo-Operation-Name":  opName,
			"Upgrade":                  upgrade,
		} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		reached := false
		w := httptest.NewRecorder()
		Prevent(writeRefusal)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).ServeHTTP(w, r)

		hasHeader := preflight != "" || opName != ""
		if reached && !hasHeader && browserSendsWithoutPreflight(method, contentType, upgrade) {
			t.Fatalf("%s with Content-Type %q, Upgrade %q and no preflight header reached the handler", method, contentType, upgrade)
		}
		if !reached && hasHeader {
			t.Fatalf("%s with a preflight header was refused", method)
		}
		if !reached && (w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Body.String(), "BAD_REQUEST ")) {
			t.Fatalf("refusal answered %d %q", w.Code, w.Body)
		}
		if !reached && !browserSendsWithoutPreflight(method, contentType, upgrade) && method != http.MethodPost {
			t.Fatalf("%s with Upgrade %q refused though it needs a preflight anyway", method, upgrade)
		}
	})
}

// browserSendsWithoutPreflight is the rule written from the Fetch standard
// rather than from csrf.go: GET and HEAD are simple methods; a POST is
// simple when its Content-Type is absent or, parsed the way a browser
// parses a MIME type, has one of the three form encodings as its essence.
// A value a browser cannot parse is not CORS-safelisted, so sending it
// takes a preflight.
func browserSendsWithoutPreflight(method, contentType, upgrade string) bool {
	switch method {
	case "GET", "HEAD":
		return !strings.EqualFold(upgrade, "websocket")
	case "POST":
		const httpSpace = " \t\r\n"
		v := strings.Trim(contentType, httpSpace)
		if v == "" {
			return true // a server reads a blank header as a missing one
		}
		typ, rest, ok := strings.Cut(v, "/")
		if !ok || !isToken(typ) {
			return false
		}
		sub, _, _ := strings.Cut(rest, ";")
		sub = strings.TrimRight(sub, httpSpace)
		if !isToken(sub) {
			return false
		}
		switch strings.ToLower(typ + "/" + sub) {
		case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
			return true
		}
	}
	return false
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}
