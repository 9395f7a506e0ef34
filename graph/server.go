package graph

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"

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
	// AllowedOrigins is the CORS allowlist; websocket upgrades are checked
	// against it too.
	AllowedOrigins []string
	Logger         *slog.Logger
	// Extensions run around every operation (metrics).
	Extensions []graphql.HandlerExtension
	// Sockets tracks websocket connections for a clean shutdown.
	Sockets *Sockets
	// MaxSocketOperations bounds the operations one websocket runs at
	// once (WS_MAX_OPERATIONS).
	MaxSocketOperations int
}

// NewServer builds the GraphQL handler explicitly (handler.New, not the
// deprecated NewDefaultServer): graphql-transport-ws for subscriptions,
// POST and GET transports (GET runs queries only), a parsed-query cache,
// automatic persisted queries, optional introspection, depth and complexity
// limits, and the error presenter. It expects the session middleware in
// front of it.
func NewServer(r *Resolver, opts ServerOptions) http.Handler {
	cfg := Config{Resolvers: r, Directives: DirectiveRoot{Auth: Auth}}
	// first and limit multiply the cost of what they return.
	cfg.Complexity.Deck.Cards = func(child int, first *int, _ *string) int { return 1 + child*orDefault(first, 50) }
	cfg.Complexity.Query.DueCards = func(child int, _ *string, limit *int) int {
		return databaseRootCost + child*orDefault(limit, 20)
	}
	// Each root field that reads MongoDB costs at least databaseRootCost,
	// so aliases cannot fan one request out into many queries.
	cfg.Complexity.Query.Decks = func(child int) int { return databaseRootCost + child }
	cfg.Complexity.Query.Deck = func(child int, _ string) int { return databaseRootCost + child }
	srv := handler.New(NewExecutableSchema(cfg))
	// The first transport that supports a request serves it: POST, nearly
	// every request, is asked first. They support disjoint requests.
	srv.AddTransport(postTransport{})
	srv.AddTransport(getTransport{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(websocketTransport(opts.AllowedOrigins, max(opts.MaxSocketOperations, 1)))

	// A query's tokens bound the work done before any limit below runs:
	// validation of many same-named aliases is quadratic, and 10,000-field
	// queries are refused here cheaply. The standard introspection query
	// is about 180 tokens.
	srv.SetParserTokenLimit(maxQueryTokens)
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(socketOperations{})
	srv.Use(DepthLimit{Max: opts.MaxDepth})
	srv.Use(&ComplexityLimit{Max: opts.MaxComplexity})
	srv.Use(batchLoaders{decks: r.Decks, now: time.Now})

	for _, ext := range opts.Extensions {
		srv.Use(ext)
	}

	srv.SetErrorPresenter(PresentError(opts.Logger))
	srv.SetRecoverFunc(Recover)
	sockets := opts.Sockets
	if sockets == nil {
		sockets = &Sockets{}
	}
	return sockets.track(srv)
}

// maxQueryTokens is the largest query the parser reads.
const maxQueryTokens = 3000

func orDefault(p *int, def int) int {
	if p == nil || *p < 1 {
		return max(def, 1)
	}
	return *p
}
