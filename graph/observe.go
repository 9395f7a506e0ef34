package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// OperationObserver records each GraphQL operation: kind is the operation
// type ("invalid" when it has none) and field its first root field, both
// bounded by the schema (never the client-chosen operation name); outcome
// is "ok" or the first error's code.
type OperationObserver interface {
	Operation(kind, field, outcome string, d time.Duration)
}

// Observe is a gqlgen extension reporting every response to o.
type Observe struct{ Observer OperationObserver }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = Observe{}

// ExtensionName implements graphql.HandlerExtension.
func (Observe) ExtensionName() string { return "Observe" }

// Validate implements graphql.HandlerExtension.
func (Observe) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (o Observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	kind, field, start := operationOf(ctx)
	outcome := "ok"
	if len(resp.Errors) > 0 {
		outcome, _ = resp.Errors[0].Extensions["code"].(string)
		if outcome == "" {
			outcome = "error"
		}
	}
	o.Observer.Operation(kind, field, outcome, time.Since(start))
	return resp
}

// operationOf names the operation in ctx as OperationObserver does (kind
// and first root field), and says when it started; without one, "invalid"
// and now.
func operationOf(ctx context.Context) (kind, field string, start time.Time) {
	kind, start = "invalid", time.Now()
	if !graphql.HasOperationContext(ctx) {
		return kind, field, start
	}
	oc := graphql.GetOperationContext(ctx)
	start = oc.Stats.OperationStart
	if oc.Operation == nil {
		return kind, field, start
	}
	kind = string(oc.Operation.Operation)
	for _, sel := range oc.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			return kind, f.Name, start
		}
	}
	return kind, field, start
}
