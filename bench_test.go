package main

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"testing"
)

// BenchmarkMeOverHTTP is a signed-in `{ me { id email } }` through the
// whole server in this process (real redis-server, keep-alive HTTP on
// loopback), client included. For a CPU profile of the me path:
//
//	go test -run='^$' -bench=MeOverHTTP -cpuprofile=/tmp/me.prof . && go tool pprof -top /tmp/me.prof
func BenchmarkMeOverHTTP(b *testing.B) { benchmarkMe(b, nil) }

// benchmarkMe measures signed-in me requests over HTTP against a server
// started with env.
func benchmarkMe(b *testing.B, env map[string]string) {
	b.Helper()
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	env["BCRYPT_COST"] = "4"
	ts := startServer(b, env)
	c := ts.client(b)
	c.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	u, _ := ts.register(b, c)
	body := []byte(`{"query":"{ me { id email } }"}`)
	want := []byte(u.Email)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			buf, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(buf, want) {
				b.Errorf("response %s", buf)
				return
			}
		}
	})
}

// BenchmarkAnonOverHTTP is `{ __typename }` without a cookie through the
// whole server in this process, client included.
func BenchmarkAnonOverHTTP(b *testing.B) {
	ts := startServer(b, map[string]string{"BCRYPT_COST": "4"})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body := []byte(`{"query":"{ __typename }"}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
