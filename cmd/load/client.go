package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"
)

// maxBody is the most of a response body that is read; the rest is drained.
const maxBody = 8 << 20

// gqlClient posts GraphQL requests as JSON, the way a browser client does,
// with the session cookie set by hand (no jar: one client serves every user).
type gqlClient struct {
	http    *http.Client
	timeout time.Duration
	origin  string
	meter   *meter // counts the measured requests; nil for setup
}

// outcome is what one request came back with.
type outcome struct {
	status    int      // HTTP status; 0 when no response came
	transport string   // kind of transport error; "" when a response came
	codes     []string // extensions.code of each GraphQL error ("NO_CODE" when absent)
	check     string   // a failed check of the data, e.g. "signed-out"
	cookie    string   // "name=value" of a live cookie the response set
	data      json.RawMessage
	start     time.Time
	done      time.Time
	// unmeasured marks a request a metered client sent outside the
	// measured window: tallies skip it.
	unmeasured bool
	// second is the second of the measured window the request was sent
	// in, counting from 1, when the run keeps a timeline; 0 otherwise.
	second int
}

// answered reports whether a complete HTTP response came back, whatever
// its status and content.
func (o outcome) answered() bool { return o.transport == "" && o.status != 0 }

// failed reports whether anything went wrong with the request.
func (o outcome) failed() bool {
	return o.transport != "" || o.status < 200 || o.status > 299 || len(o.codes) > 0 || o.check != ""
}

func (o outcome) latency() time.Duration { return o.done.Sub(o.start) }

// field returns the raw JSON of data.<name> ("null" when absent).
func (o outcome) field(name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(o.data, &m) != nil || m[name] == nil {
		return json.RawMessage("null")
	}
	return m[name]
}

// describe is a short text for setup errors.
func (o outcome) describe() string {
	switch {
	case o.transport != "":
		return "transport error: " + o.transport
	case len(o.codes) > 0:
		return "GraphQL errors: " + strings.Join(o.codes, ", ")
	case o.status < 200 || o.status > 299:
		return fmt.Sprintf("HTTP %d", o.status)
	case o.check != "":
		return o.check
	}
	return "ok"
}

type gqlBody struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// encode builds a request body; the queries are the tool's own, so it
// cannot fail.
func encode(query string, vars map[string]any) []byte {
	b, err := json.Marshal(gqlBody{Query: query, Variables: vars})
	if err != nil {
		panic(err)
	}
	return b
}

// post sends one GraphQL request with cookie ("name=value", may be empty).
// A metered client counts the request as sent before it goes out and as
// answered once its response has been read.
func (c *gqlClient) post(ctx context.Context, endpoint string, body []byte, cookie string) outcome {
	o := outcome{start: time.Now()}
	c.meter.send(&o)
	c.send(ctx, endpoint, body, cookie, &o)
	c.meter.receive(o)
	return o
}

// send does the request of post, filling in o.
func (c *gqlClient) send(ctx context.Context, endpoint string, body []byte, cookie string, o *outcome) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		o.transport = "bad request: " + err.Error()
		o.done = time.Now()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		o.transport = transportKind(err)
		o.done = time.Now()
		return
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o.done = time.Now()
	o.status = resp.StatusCode
	if err != nil {
		o.transport = transportKind(err)
		return
	}
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			o.cookie = ck.Name + "=" + ck.Value
		}
	}
	data, codes, err := parseResponse(raw)
	if err != nil {
		o.check = "bad-json"
		return
	}
	o.data, o.codes = data, codes
}

// expect records failure as the check when the request otherwise
// succeeded but data.<name> is null; it returns the field.
func (o *outcome) expect(name, failure string) json.RawMessage {
	v := o.field(name)
	if !o.failed() && string(v) == "null" {
		o.check = failure
	}
	return v
}

// parseResponse returns a GraphQL response's data and the extensions.code
// of each of its errors, "NO_CODE" for an error without one.
func parseResponse(raw []byte) (json.RawMessage, []string, error) {
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, nil, fmt.Errorf("response is not GraphQL JSON: %w", err)
	}
	var codes []string
	for _, e := range r.Errors {
		code := e.Extensions.Code
		if code == "" {
			code = "NO_CODE"
		}
		codes = append(codes, code)
	}
	return r.Data, codes, nil
}

// transportKind names a request error for the report.
func transportKind(err error) string {
	var ne net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errNotLoopback):
		return "non-loopback address refused"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// sortedKeys returns m's keys in order, for stable reports.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
