package main

// Regenerates graph/generated.go and graph/model/models_gen.go from
// graph/*.graphqls with the gqlgen pinned by go.mod's tool directive.
//go:generate go tool gqlgen generate
