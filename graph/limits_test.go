package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestSelectionDepth(t *testing.T) {
	tests := []struct {
		query string
		want  int
	}{
		{`{ __typename }`, 1},
		{`{ me { id } }`, 2},
		{`{ decks { cards { id } } me { id } }`, 3},
		{`{ ... on Query { me { id } } }`, 2},
		{`{ ...F } fragment F on Query { me { ...G } } fragment G on User { id }`, 2},
		{`{ ...F ...F } fragment F on Query { decks { ...D } } fragment D on Deck { cards { id } }`, 3},
		// A cycle (refused by validation before this runs) must not recurse forever.
		{`{ ...F } fragment F on Query { me { id } ...F }`, 2},
		{`{ __schema { types { fields { name } } } }`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			got := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0, nil)
			if got != tt.want {
				t.Fatalf("depth %d, want %d", got, tt.want)
			}
		})
	}
}
