package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/session"
)

// Auth implements @auth: the one place that answers UNAUTHENTICATED for a
// field that needs a signed-in user. Resolvers behind it read the user with
// signedInUser and do not check again.
func Auth(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	id, err := session.UserID(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, errUnauthenticated()
	}
	return next(ctx)
}

func errUnauthenticated() error {
	return apperr.New(apperr.Unauthenticated, "Sign in to do this.")
}

func errSubscriptionOverHTTP() error {
	return apperr.Input("", "Subscriptions run over the websocket (graphql-transport-ws), not HTTP.")
}

// signedInUser is the user @auth let through.
func signedInUser(ctx context.Context) (string, error) {
	id, err := session.UserID(ctx)
	if err == nil && id == "" {
		err = errUnauthenticated()
	}
	return id, err
}
