// Package graph is the GraphQL edge: the schema, thin resolvers that call the
// domain packages, and the one place that turns errors into GraphQL errors.
package graph

import (
	"github.com/sessiongql/server/graph/model"
	"github.com/sessiongql/server/internal/account"
	"github.com/sessiongql/server/internal/store"
)

// Resolver holds the resolvers' dependencies and nothing else.
type Resolver struct {
	Accounts *account.Service
}

func userModel(u store.User) *model.User {
	return &model.User{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt}
}
