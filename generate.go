package main

// Regenerates graph/generated.go and graph/model/models_gen.go from
// graph/*.graphqls with the gqlgen version pinned in go.mod (see tools.go).
//go:generate go run github.com/99designs/gqlgen generate
