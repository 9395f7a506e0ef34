package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sessiongql/server/internal/apperr"
)

// The HTTP transports: GraphQL over HTTP as gqlgen's POST and GET
// transports serve it (Accept negotiation, request parsing, execution),
// with the statuses and shapes of the GraphQL-over-HTTP specification,
// its SHOULD rules included (graphql-http's audit, .ci/graphql-http-audit):
//
//   - A request error (the document does not parse or validate, or the
//     variables do not fit it) is answered with no "data" entry: 200 to an
//     application/json client, 400 to an application/graphql-response+json
//     one. gqlgen answers 422 and "data": null to both.
//   - A request that is not a GraphQL-over-HTTP request (not one JSON
//     object, a parameter of the wrong type, no "query") or is a
//     subscription is refused with 400 and BAD_USER_INPUT; a mutation sent
//     with GET with 405 and Allow: POST.
//   - No answer names a Go type or repeats what the client sent in its
//     variables.

// postTransport serves POST with a JSON body. It recognises the usual
// Content-Type without parsing it (a media-type parse and its map were
// 1.3% of an anonymous request's CPU).
type postTransport struct{}

var _ graphql.Transport = postTransport{}

// Supports accepts exactly the requests gqlgen's POST transport accepts.
func (postTransport) Supports(r *http.Request) bool {
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" {
		return r.Header.Get("Upgrade") == ""
	}
	return transport.POST{}.Supports(r)
}

// rawParams reuses request parameters, as gqlgen's POST transport does.
var rawParams = sync.Pool{New: func() any { return &graphql.RawParams{} }}

// Do answers one POST.
func (postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", mediaType)

	params := rawParams.Get().(*graphql.RawParams)
	defer func() {
		*params = graphql.RawParams{}
		rawParams.Put(params)
	}()
	start := graphql.Now()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuse(r.Context(), w, exec, http.StatusBadRequest, "The request body could not be read.")
		return
	}
	if msg := decodeParams(body, params); msg != "" {
		refuse(r.Context(), w, exec, http.StatusBadRequest, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(r.Context(), w, exec, params, mediaType, false)
}

// getTransport serves GET: queries only (docs/API.md, "HTTP").
type getTransport struct{}

var _ graphql.Transport = getTransport{}

// Supports accepts exactly the requests gqlgen's GET transport accepts.
func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

// Do answers one GET.
func (getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType := responseMediaType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", mediaType)

	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(r.Context(), w, exec, http.StatusBadRequest, "The URL's query string could not be parsed.")
		return
	}
	params := &graphql.RawParams{
		Query:         query.Get("query"),
		OperationName: query.Get("operationName"),
		Headers:       r.Header,
	}
	params.ReadTime.Start = graphql.Now()
	if v := query.Get("variables"); v != "" {
		if jsonDecode([]byte(v), &params.Variables) != nil {
			refuse(r.Context(), w, exec, http.StatusBadRequest, `The "variables" parameter must be a JSON object.`)
			return
		}
	}
	if v := query.Get("extensions"); v != "" {
		if jsonDecode([]byte(v), &params.Extensions) != nil {
			refuse(r.Context(), w, exec, http.StatusBadRequest, `The "extensions" parameter must be a JSON object.`)
			return
		}
	}
	params.ReadTime.End = graphql.Now()
	serve(r.Context(), w, exec, params, mediaType, true)
}

// serve runs the operation params asks for, as gqlgen's transports do,
// refusing a request without a query, a subscription and (when queryOnly)
// a mutation before it runs.
func serve(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, params *graphql.RawParams, mediaType string, queryOnly bool) {
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		// An invalid parameter, not a document that fails to parse: 400
		// whatever the Accept header (a persisted query's hash may stand
		// in for the document).
		refuse(ctx, w, exec, http.StatusBadRequest, `The request's "query" is missing or empty: send a GraphQL document in it.`)
		return
	}
	oc, errs := exec.CreateOperationContext(ctx, params)
	if oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		// Whatever else is wrong with it: over HTTP a subscription would
		// hold the request open until its first event.
		refuse(graphql.WithOperationContext(ctx, oc), w, exec, http.StatusBadRequest,
			"Subscriptions are served over a websocket (graphql-transport-ws), not over HTTP POST or GET.")
		return
	}
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), plainVariableErrors(errs, params.Variables))
		if errcode.GetErrorKind(errs) != errcode.KindProtocol {
			// An error the library answers as a result, not as a request
			// error (the complexity limit, an unknown persisted query):
			// 200 and "data": null, as gqlgen answers.
			writeJSON(w, resp)
			return
		}
		w.WriteHeader(statusForRequestError(mediaType))
		writeJSON(w, requestErrors(resp))
		return
	}
	if queryOnly && oc.Operation.Operation != ast.Query {
		// GraphQL over HTTP: a mutation over GET MUST get 405.
		w.Header().Set("Allow", http.MethodPost)
		refuse(graphql.WithOperationContext(ctx, oc), w, exec, http.StatusMethodNotAllowed, "GET requests only allow query operations: send a mutation with POST.")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeJSON(w, responses(ctx))
}

// refuse answers status with one BAD_USER_INPUT error saying msg, through
// the error presenter like every other GraphQL error, and no "data": the
// request never reached execution.
func refuse(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, status int, msg string) {
	w.WriteHeader(status)
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": apperr.BadUserInput}}
	writeJSON(w, requestErrors(exec.DispatchError(ctx, gqlerror.List{err})))
}

// requestErrorResponse is the answer to a request error: a GraphQL
// response without the "data" entry (the GraphQL specification: no data
// when an error is raised before execution begins; GraphQL over HTTP: none
// in a 4xx application/graphql-response+json answer).
type requestErrorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func requestErrors(resp *graphql.Response) requestErrorResponse {
	return requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions}
}

// decodeParams reads a POST body into params. It returns "" or, for a body
// that is not a GraphQL-over-HTTP request, a message for the client that
// names neither a Go type nor anything the body holds.
func decodeParams(body []byte, params *graphql.RawParams) string {
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return `The request body is empty: send a JSON object with a "query".`
	}
	if !isJSONObject(body) {
		return `The request body must be one JSON object with a "query" (batched requests are not supported).`
	}
	err := jsonDecode(body, params)
	if err == nil {
		return ""
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		switch typeErr.Field {
		case "query":
			return `The request's "query" must be a string.`
		case "operationName":
			return `The request's "operationName" must be a string.`
		case "variables":
			return `The request's "variables" must be a JSON object.`
		case "extensions":
			return `The request's "extensions" must be a JSON object.`
		}
		return "The request body is not a GraphQL request."
	}
	return "The request body is not valid JSON."
}

// isJSONObject reports whether b, after white space, starts a JSON object:
// a batch (an array), a string or null is told apart without decoding it.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// jsonDecode decodes the first JSON value in b as gqlgen does (numbers
// stay json.Number, so large integers keep their digits).
func jsonDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

const graphqlResponseJSON = "application/graphql-response+json"

// responseMediaType is gqlgen's choice of response media type for an
// Accept header: the first of application/json and
// application/graphql-response+json it names, application/json for none
// or a wildcard, else application/graphql-response+json. The usual values
// are matched without parsing.
func responseMediaType(accept string) string {
	switch accept {
	case "", "application/json", "*/*":
		return "application/json"
	case graphqlResponseJSON:
		return graphqlResponseJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case graphqlResponseJSON:
			return graphqlResponseJSON
		}
	}
	return graphqlResponseJSON
}

// statusForRequestError is the GraphQL-over-HTTP status for a request
// error answered as mediaType: 200 for application/json (so that clients
// written before application/graphql-response+json read the errors),
// 400 for application/graphql-response+json.
func statusForRequestError(mediaType string) int {
	if mediaType == graphqlResponseJSON {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeJSON writes resp, a *graphql.Response or a requestErrorResponse.
func writeJSON(w io.Writer, resp any) {
	b, err := json.Marshal(resp)
	if err != nil {
		// As gqlgen's transports do: the handler's recover answers 500.
		panic(fmt.Errorf("encode response: %w", err))
	}
	_, _ = w.Write(b)
}

// plainVariableErrors rewrites the GraphQL library's errors about variable
// values ("cannot use bool as String", "must be a LoginInput, not a
// slice", "cannot use value 0 as Int"), which name Go's kinds of value or
// misreport the value, into messages in GraphQL's and JSON's terms; an
// enum value the client sent is not repeated. Other errors pass as they
// are.
func plainVariableErrors(errs gqlerror.List, vars map[string]any) gqlerror.List {
	var out gqlerror.List
	for i, e := range errs {
		if len(e.Path) < 2 || e.Path[0] != ast.PathName("variable") {
			continue
		}
		msg, ok := plainVariableMessage(e.Message, valueAt(vars, e.Path[1:]))
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(errs)
		}
		plain := *e
		plain.Message = fmt.Sprintf("Variable %q %s.", variableName(e.Path[1:]), msg)
		out[i] = &plain
	}
	if out == nil {
		return errs
	}
	return out
}

// plainVariableMessage says what a variable's value must be, given the
// library's message about it and the value; ok is false for messages that
// need no rewriting.
func plainVariableMessage(msg string, value any) (string, bool) {
	got := jsonKind(value)
	switch {
	case strings.HasPrefix(msg, "cannot use "):
		// "cannot use <Go kind or value> as <Type>[: ...]"
		_, typ, _ := strings.Cut(msg, " as ")
		typ, _, _ = strings.Cut(typ, ":")
		if got == "a number" && (typ == "Int" || typ == "ID") {
			return fmt.Sprintf("must be %s: a whole number within 64 bits", article(typ)), true
		}
		if got == "a number" && typ == "Float" {
			return "must be a Float within 64 bits", true
		}
		return fmt.Sprintf("must be %s, not %s", article(typ), got), true
	case strings.HasPrefix(msg, "must be a "):
		// "must be a <Input>, not a <Go kind>"
		typ, _, _ := strings.Cut(strings.TrimPrefix(msg, "must be a "), ",")
		return fmt.Sprintf("must be a %s object, not %s", typ, got), true
	case strings.HasSuffix(msg, " is not a valid "+lastWord(msg)) && lastWord(msg) != "":
		// "<value> is not a valid <Enum>": the value is the client's.
		return "is not a value of " + lastWord(msg), true
	case msg == "enums must be ints or strings":
		return "must be an enum value (a string), not " + got, true
	}
	return "", false
}

// jsonKind names a decoded JSON value's kind.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a value of another kind"
}

// valueAt is the value at path (names and list indexes) within vars, or
// nil. A single value given for a list type stands for its first item.
func valueAt(vars map[string]any, path ast.Path) any {
	var v any = vars
	for _, p := range path {
		switch p := p.(type) {
		case ast.PathName:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[string(p)]
		case ast.PathIndex:
			l, ok := v.([]any)
			if !ok {
				if p == 0 {
					continue
				}
				return nil
			}
			if int(p) < 0 || int(p) >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

// variableName writes a variable's path as GraphQL clients do: $i.email,
// $ids[2].
func variableName(path ast.Path) string {
	var b strings.Builder
	b.WriteByte('$')
	for i, p := range path {
		switch p := p.(type) {
		case ast.PathName:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(p))
		case ast.PathIndex:
			fmt.Fprintf(&b, "[%d]", int(p))
		}
	}
	return b.String()
}

func article(typ string) string {
	if typ != "" && strings.ContainsRune("AEIOU", rune(typ[0])) {
		return "an " + typ
	}
	return "a " + typ
}

func lastWord(s string) string {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return ""
	}
	return s[i+1:]
}
