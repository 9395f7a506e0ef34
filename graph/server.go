package graph

import (
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// ServerOptions configure the GraphQL handler.
type ServerOptions struct {
	Introspection bool
	MaxDepth      int
	MaxComplexity int
	Logger        *slog.Logger
}

// NewServer builds the GraphQL handler explicitly (handler.New, not the
// deprecated NewDefaultServer): POST and GET transports (GET runs queries
// only), a parsed-query cache, automatic persisted queries, optional
// introspection, depth and complexity limits, and the error presenter.
func NewServer(r *Resolver, opts ServerOptions) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(DepthLimit{Max: opts.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(opts.MaxComplexity))

	srv.SetErrorPresenter(PresentError(opts.Logger))
	srv.SetRecoverFunc(Recover)
	return srv
}
