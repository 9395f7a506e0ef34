//go:build tools

// Package tools pins the versions of the code generators this module runs,
// so `go generate ./...` uses the gqlgen recorded in go.mod.
package tools

import (
	_ "github.com/99designs/gqlgen"
)
