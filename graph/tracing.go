package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TraceOperations is a gqlgen extension making a span of each query and
// mutation, named as the metrics name operations ("query:me": type and
// first root field, never the client-chosen operation name), from the
// operation's start to its response. The resolvers run in its context, so
// their store calls are its children; the session, loaded by the
// middleware before the operation, is its sibling under the request's span.
// Subscriptions get none: their response handler waits for each event.
// The server adds it only when tracing is on.
type TraceOperations struct{ Tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = TraceOperations{}

// ExtensionName implements graphql.HandlerExtension.
func (TraceOperations) ExtensionName() string { return "TraceOperations" }

// Validate implements graphql.HandlerExtension.
func (TraceOperations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (t TraceOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	kind, field, start := operationOf(ctx)
	if kind == string(ast.Subscription) {
		return next(ctx)
	}
	name := kind
	if kind != "invalid" {
		name += ":" + field
	}
	ctx, span := t.Tracer.Start(ctx, name,
		trace.WithTimestamp(start),
		trace.WithAttributes(attribute.String("graphql.operation.type", kind)))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		code, _ := resp.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = "error"
		}
		span.SetStatus(codes.Error, code)
	}
	return resp
}
