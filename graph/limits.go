package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DepthLimit refuses operations nested deeper than Max before they run.
// Introspection fields (__schema, __type) are not counted, so the standard
// introspection query that GraphiQL and code generators send always passes.
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (d DepthLimit) Validate(graphql.ExecutableSchema) error {
	if d.Max < 1 {
		return fmt.Errorf("depth limit must be at least 1")
	}
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (d DepthLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	if depth := selectionDepth(opCtx.Operation.SelectionSet, opCtx.Doc.Fragments, 0, nil); depth > d.Max {
		err := gqlerror.Errorf("The operation is nested %d levels deep; the limit is %d.", depth, d.Max)
		err.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED", "limit": "depth"}
		return err
	}
	return nil
}

// selectionDepth returns the deepest field level below set. visiting holds
// the fragments being expanded; it is made on the first spread.
func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, depth int, visiting map[string]bool) int {
	deepest := depth
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			if len(s.SelectionSet) == 0 {
				d = depth + 1
			} else {
				d = selectionDepth(s.SelectionSet, frags, depth+1, visiting)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, depth, visiting)
		case *ast.FragmentSpread:
			// Validation already refused fragment cycles; guard anyway.
			if visiting[s.Name] {
				continue
			}
			f := frags.ForName(s.Name)
			if f == nil {
				continue
			}
			if visiting == nil {
				visiting = map[string]bool{}
			}
			visiting[s.Name] = true
			d = selectionDepth(f.SelectionSet, frags, depth, visiting)
			delete(visiting, s.Name)
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// Least costs of root fields toward GRAPHQL_MAX_COMPLEXITY (docs/API.md,
// "Throttling and races"): a root field that reads MongoDB, and an
// introspection root field (__schema, __type), so that aliases cannot fan
// one small request out into many database queries or a huge answer.
const (
	databaseRootCost      = 10
	introspectionRootCost = 100
)

// ComplexityLimit refuses operations costlier than Max before they run.
// It is gqlgen's complexity (each field 1 plus its children, first and
// limit multiplying, databaseRootCost for database roots) plus
// introspectionRootCost for each introspection root field, which gqlgen
// does not count: the standard introspection query (one __schema) costs
// 100.
type ComplexityLimit struct {
	Max int
	es  graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &ComplexityLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (*ComplexityLimit) ExtensionName() string { return "ComplexityLimit" }

// Validate implements graphql.HandlerExtension.
func (c *ComplexityLimit) Validate(es graphql.ExecutableSchema) error {
	if c.Max < 1 {
		return fmt.Errorf("complexity limit must be at least 1")
	}
	c.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (c *ComplexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	cost := complexity.Calculate(ctx, c.es, op, opCtx.Variables) +
		introspectionRootCost*introspectionRoots(op.SelectionSet, opCtx.Doc.Fragments, nil)
	if cost > c.Max {
		err := gqlerror.Errorf("The operation costs %d; the limit is %d.", cost, c.Max)
		err.Extensions = map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED", "limit": "complexity"}
		return err
	}
	return nil
}

// introspectionRoots counts the __schema and __type fields of a root
// selection set, through fragments.
func introspectionRoots(set ast.SelectionSet, frags ast.FragmentDefinitionList, visiting map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				n++
			}
		case *ast.InlineFragment:
			n += introspectionRoots(s.SelectionSet, frags, visiting)
		case *ast.FragmentSpread:
			f := frags.ForName(s.Name)
			if f == nil || visiting[s.Name] {
				continue
			}
			if visiting == nil {
				visiting = map[string]bool{}
			}
			visiting[s.Name] = true
			n += introspectionRoots(f.SelectionSet, frags, visiting)
			delete(visiting, s.Name)
		}
	}
	return n
}
