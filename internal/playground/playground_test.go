package playground

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// newServer mounts Handler the way the server does and serves it over real
// HTTP for the length of the test.
func newServer(t *testing.T, endpoint string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", Handler(endpoint))
	mux.Handle("GET "+AssetPrefix, Handler(endpoint))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

func checkSecurityHeaders(t *testing.T, url string, resp *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("GET %s: %s = %q, want %q", url, name, got, want)
		}
	}
}

// Patterns for the few tags the page has; the tests need no full HTML parser.
func scriptTags(body string) [][]string {
	return regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
}

func linkTags(body string) [][]string {
	return regexp.MustCompile(`(?is)<link\b([^>]*)>`).FindAllStringSubmatch(body, -1)
}

// attr returns the value of the named double-quoted attribute in attrs.
func attr(attrs, name string) (string, bool) {
	m := regexp.MustCompile(`(?i)\b` + name + `="([^"]*)"`).FindStringSubmatch(attrs)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func TestPageIsHTMLWithSecurityHeaders(t *testing.T) {
	srv := newServer(t, "/graphql")
	resp, body := get(t, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	checkSecurityHeaders(t, "/", resp)
	for _, forbidden := range []string{"'unsafe-eval'", "http:", "https:"} {
		if strings.Contains(contentSecurityPolicy, forbidden) {
			t.Errorf("CSP allows %s", forbidden)
		}
	}
	if !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Errorf("page does not pass the endpoint:\n%s", body)
	}
}

func TestPageHasNoInlineScriptOrOtherHost(t *testing.T) {
	srv := newServer(t, "/graphql")
	_, body := get(t, srv.URL+"/")

	scripts := scriptTags(body)
	if len(scripts) == 0 {
		t.Fatal("page has no script")
	}
	for _, s := range scripts {
		if strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script body: %q", s[2])
		}
		if _, ok := attr(s[1], "src"); !ok {
			t.Errorf("script without src: %q", s[0])
		}
	}
	if strings.Count(strings.ToLower(body), "<script") != len(scripts) {
		t.Error("page has a script tag the check could not parse")
	}
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]`).FindString(body); m != "" {
		t.Errorf("page names another host: %q", m)
	}
}

func TestPageAssetsAreServedSameOrigin(t *testing.T) {
	srv := newServer(t, "/graphql")
	_, body := get(t, srv.URL+"/")

	type ref struct{ url, contentType string }
	var refs []ref
	for _, s := range scriptTags(body) {
		src, _ := attr(s[1], "src")
		refs = append(refs, ref{src, "text/javascript; charset=utf-8"})
	}
	for _, l := range linkTags(body) {
		href, okHref := attr(l[1], "href")
		rel, okRel := attr(l[1], "rel")
		if !okHref || !okRel {
			t.Errorf("link without href or rel: %q", l[0])
			continue
		}
		if rel == "icon" && strings.HasPrefix(href, "data:") {
			continue // an empty icon, so the browser does not ask for /favicon.ico
		}
		refs = append(refs, ref{href, "text/css; charset=utf-8"})
	}
	if len(refs) < 2 {
		t.Fatalf("page links %d assets, want a script and a stylesheet", len(refs))
	}

	for _, r := range refs {
		if !strings.HasPrefix(r.url, AssetPrefix) {
			t.Errorf("asset %q is not below %s", r.url, AssetPrefix)
			continue
		}
		resp, asset := get(t, srv.URL+r.url)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status = %d, want 200", r.url, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != r.contentType {
			t.Errorf("GET %s: Content-Type = %q, want %q", r.url, ct, r.contentType)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control = %q, want immutable", r.url, cc)
		}
		checkSecurityHeaders(t, r.url, resp)
		if len(asset) < 1000 {
			t.Errorf("GET %s: only %d bytes", r.url, len(asset))
		}

		req, err := http.NewRequest(http.MethodGet, srv.URL+r.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("revalidate %s: %v", r.url, err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("revalidate %s: status = %d, want 304", r.url, again.StatusCode)
		}
	}
}

func TestEndpointIsHTMLEscaped(t *testing.T) {
	srv := newServer(t, `/g"><script>alert(1)</script>`)
	_, body := get(t, srv.URL+"/")
	if strings.Contains(body, "alert(1)</script>") {
		t.Fatalf("endpoint is not escaped:\n%s", body)
	}
	if !strings.Contains(body, `data-endpoint="/g&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("escaped endpoint missing:\n%s", body)
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	srv := newServer(t, "/graphql")
	for _, p := range []string{
		AssetPrefix,
		AssetPrefix + "missing.js",
		AssetPrefix + "manifest.json",
		AssetPrefix + "dist/manifest.json",
		AssetPrefix + "assets/",
	} {
		resp, _ := get(t, srv.URL+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", p, resp.StatusCode)
		}
		checkSecurityHeaders(t, p, resp)
	}
}

func TestHandlerOutsideMuxServesOnlyItsPaths(t *testing.T) {
	srv := httptest.NewServer(Handler("/graphql"))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/graphql", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: status = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// TestBundleHoldsOnlyManifestFiles guards against a build that left stale
// files in dist/, which would be embedded in every binary for nothing.
func TestBundleHoldsOnlyManifestFiles(t *testing.T) {
	h, err := newHandler(dist, "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(dist, "dist")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := h.assets[e.Name()]; !ok && e.Name() != "manifest.json" {
			t.Errorf("dist/%s is not named by manifest.json", e.Name())
		}
	}
}

func TestBrokenBundleIsReported(t *testing.T) {
	for name, bundle := range map[string]fstest.MapFS{
		"no manifest":      {},
		"bad json":         {"dist/manifest.json": {Data: []byte("{")}},
		"missing script":   {"dist/manifest.json": {Data: []byte(`{"style":"a.css"}`)}, "dist/a.css": {}},
		"file not present": {"dist/manifest.json": {Data: []byte(`{"script":"a.js","style":"a.css"}`)}},
		"path in name": {
			"dist/manifest.json": {Data: []byte(`{"script":"../a.js","style":"a.css"}`)},
			"a.js":               {}, "dist/a.css": {},
		},
	} {
		if _, err := newHandler(bundle, "/graphql"); err == nil {
			t.Errorf("%s: newHandler accepted a broken bundle", name)
		}
	}
}
