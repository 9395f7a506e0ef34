// Package playground serves GraphiQL, the in-browser GraphQL IDE, as a page
// that works with no network access beyond this server.
//
// Every script and stylesheet comes from dist/, which is built from pinned
// npm packages by playground-src/build.sh and embedded in the binary, so
// `go build` needs no npm and the page loads nothing from a CDN. The page has
// no inline script: it runs under a strict Content-Security-Policy, and the
// GraphQL endpoint reaches the bundle as a data attribute.
package playground

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the bundle written by playground-src/build.sh: content-hashed
// script and stylesheet files plus manifest.json, which names them.
//
//go:embed dist
var dist embed.FS

// AssetPrefix is the URL path prefix under which the bundle's files are
// served, as AssetPrefix + file name (for example
// "/playground/playground-ICHVFA5V.js"). The page links its assets there, so
// the server must route both "/" and AssetPrefix to Handler.
const AssetPrefix = "/playground/"

// contentSecurityPolicy is sent with every response. The page needs no inline
// script, no eval and no other host; styles allow 'unsafe-inline' because
// React and GraphiQL set style attributes, and data: covers the fonts and
// icons that the stylesheet inlines. connect-src admits ws: and wss: for
// GraphQL subscriptions.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self' ws: wss:; worker-src 'self' blob:; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'none'"

// pageTemplate is the whole HTML page. Configuration travels in data
// attributes because the CSP forbids inline scripts; html/template escapes
// the endpoint for its attribute.
const pageTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.Style}}">
<script defer src="{{.Script}}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript.</noscript>
</body>
</html>
`

// manifest is dist/manifest.json: the file names the build gave the bundle.
type manifest struct {
	Script string `json:"script"`
	Style  string `json:"style"`
}

// asset is one bundle file, held in memory for the life of the handler.
type asset struct {
	body        []byte
	contentType string
}

type handler struct {
	page   []byte
	assets map[string]asset
}

// Handler serves the GraphiQL page at exactly "/" and the bundle's files
// below AssetPrefix; any other path is 404 and any method but GET or HEAD is
// 405. The page sends its GraphQL requests to endpoint (for example
// "/graphql"), with cookies and the header "Apollo-Require-Preflight: true",
// and opens subscriptions over graphql-ws at the same path with ws: or wss:.
//
// Every response carries a strict Content-Security-Policy, "X-Content-Type-Options:
// nosniff" and "Referrer-Policy: no-referrer". The page is "no-cache"; the
// assets have content-hashed names and are cached for a year as immutable.
//
// Mount it as
//
//	mux.Handle("GET /{$}", playground.Handler("/graphql"))
//	mux.Handle("GET "+playground.AssetPrefix, playground.Handler("/graphql"))
//
// Handler panics if the embedded bundle is incomplete, which only a broken
// build of playground-src can cause; the package's tests catch it.
func Handler(endpoint string) http.Handler {
	h, err := newHandler(dist, endpoint)
	if err != nil {
		panic(fmt.Sprintf("playground: %v", err))
	}
	return h
}

func newHandler(bundle fs.FS, endpoint string) (*handler, error) {
	raw, err := fs.ReadFile(bundle, "dist/manifest.json")
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}

	h := &handler{assets: make(map[string]asset, 2)}
	for _, f := range []struct{ name, contentType string }{
		{m.Script, "text/javascript; charset=utf-8"},
		{m.Style, "text/css; charset=utf-8"},
	} {
		if f.name == "" || path.Base(f.name) != f.name {
			return nil, fmt.Errorf("manifest names no usable file: %q", f.name)
		}
		body, err := fs.ReadFile(bundle, "dist/"+f.name)
		if err != nil {
			return nil, fmt.Errorf("read asset: %w", err)
		}
		h.assets[f.name] = asset{body: body, contentType: f.contentType}
	}

	var page bytes.Buffer
	tmpl := template.Must(template.New("page").Parse(pageTemplate))
	err = tmpl.Execute(&page, struct{ Endpoint, Script, Style string }{
		Endpoint: endpoint,
		Script:   AssetPrefix + m.Script,
		Style:    AssetPrefix + m.Style,
	})
	if err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	h.page = page.Bytes()
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("Content-Security-Policy", contentSecurityPolicy)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		header.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	if r.URL.Path == "/" {
		header.Set("Content-Type", "text/html; charset=utf-8")
		header.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
		return
	}

	name, ok := strings.CutPrefix(r.URL.Path, AssetPrefix)
	a, found := h.assets[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	header.Set("Content-Type", a.contentType)
	header.Set("Cache-Control", "public, max-age=31536000, immutable")
	header.Set("ETag", `"`+name+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
