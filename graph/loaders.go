package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/sessiongql/server/graph/model"
	"github.com/sessiongql/server/internal/session"
	"github.com/sessiongql/server/internal/store"
	"github.com/sessiongql/server/internal/study"
)

// loaders batch what the deck fields need per request, so that
// `decks { cardCount dueCount cards { … } }` costs a fixed number of
// MongoDB round trips however many decks there are (no N+1). They are built
// on first use in an operation and cached for that operation only; every
// fetch is scoped to the request's signed-in user.
type loaders struct {
	cardCount *dataloadgen.Loader[string, int]
	dueCount  *dataloadgen.Loader[string, int]
	deck      *dataloadgen.Loader[string, *model.Deck]
	firstPage *dataloadgen.Loader[pageKey, store.CardPage]
}

// pageKey asks for the first `first` cards of a deck.
type pageKey struct {
	deckID string
	first  int
}

type loadersKey struct{}

// lazyLoaders is put in each operation's context; the loaders themselves
// are made only by operations that resolve deck fields.
type lazyLoaders struct {
	once  sync.Once
	decks *store.Decks
	now   func() time.Time
	l     *loaders
}

// batchLoaders gives every operation its own lazily made loaders. Scoping
// them to the operation (not the HTTP request) keeps a websocket's
// operations from sharing a cache, and costs an anonymous request nothing
// but one context value.
type batchLoaders struct {
	decks *store.Decks
	now   func() time.Time
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = batchLoaders{}

func (batchLoaders) ExtensionName() string                   { return "BatchLoaders" }
func (batchLoaders) Validate(graphql.ExecutableSchema) error { return nil }

func (b batchLoaders) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loadersKey{}, &lazyLoaders{decks: b.decks, now: b.now}))
}

func loadersFrom(ctx context.Context) *loaders {
	lz := ctx.Value(loadersKey{}).(*lazyLoaders)
	lz.once.Do(func() { lz.l = newLoaders(lz.decks, lz.now) })
	return lz.l
}

const loaderWait = time.Millisecond

func newLoaders(decks *store.Decks, now func() time.Time) *loaders {
	owner := func(ctx context.Context) string {
		id, _ := session.UserID(ctx) // @auth let this request through
		return id
	}
	counts := func(count func(ctx context.Context, owner string, ids []string) (map[string]int, error)) *dataloadgen.Loader[string, int] {
		return dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]int, error) {
			return count(ctx, owner(ctx), ids)
		}, dataloadgen.WithWait(loaderWait))
	}
	return &loaders{
		cardCount: counts(decks.CardCounts),
		dueCount: counts(func(ctx context.Context, o string, ids []string) (map[string]int, error) {
			return decks.DueCounts(ctx, o, ids, now())
		}),
		deck: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*model.Deck, error) {
			found, err := decks.ByIDs(ctx, owner(ctx), ids)
			if err != nil {
				return nil, err
			}
			out := make(map[string]*model.Deck, len(found))
			for id, d := range found {
				out[id] = deckModel(d)
			}
			return out, nil
		}, dataloadgen.WithWait(loaderWait)),
		firstPage: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []pageKey) (map[pageKey]store.CardPage, error) {
			// One query pair per distinct page size (in practice one).
			bySize := map[int][]string{}
			for _, k := range keys {
				bySize[k.first] = append(bySize[k.first], k.deckID)
			}
			out := make(map[pageKey]store.CardPage, len(keys))
			for first, ids := range bySize {
				pages, err := decks.CardsByDecks(ctx, owner(ctx), ids, first)
				if err != nil {
					return nil, err
				}
				for id, p := range pages {
					out[pageKey{deckID: id, first: first}] = p
				}
			}
			return out, nil
		}, dataloadgen.WithWait(loaderWait)),
	}
}

func deckModel(d store.Deck) *model.Deck {
	return &model.Deck{ID: d.ID, Title: d.Title, CreatedAt: d.CreatedAt}
}

func cardModel(c store.Card) *model.Card {
	return &model.Card{
		ID: c.ID, DeckID: c.DeckID, Front: c.Front, Back: c.Back,
		DueAt: c.DueAt, IntervalDays: c.IntervalDays, Ease: c.Ease, Reviews: c.Reviews,
	}
}

func connection(cards []store.Card, hasNext bool) *model.CardConnection {
	conn := &model.CardConnection{Edges: make([]model.CardEdge, len(cards)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, c := range cards {
		conn.Edges[i] = model.CardEdge{Cursor: c.Cursor(), Node: cardModel(c)}
	}
	if n := len(cards); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn
}

// primeDecks loads, in one batch each, the fields the operation asks of a
// list of decks, before gqlgen resolves the list's items concurrently: the
// number of round trips then does not depend on how the items' resolvers
// interleave. The decks themselves are cached for Card.deck.
func primeDecks(ctx context.Context, decks []model.Deck) {
	if len(decks) == 0 {
		return
	}
	l := loadersFrom(ctx)
	ids := make([]string, len(decks))
	for i := range decks {
		ids[i] = decks[i].ID
		l.deck.Prime(decks[i].ID, &decks[i])
	}
	var thunks []func()
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "cardCount":
			t := l.cardCount.LoadAllThunk(ctx, ids)
			thunks = append(thunks, func() { _, _ = t() })
		case "dueCount":
			t := l.dueCount.LoadAllThunk(ctx, ids)
			thunks = append(thunks, func() { _, _ = t() })
		case "cards":
			args := f.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
			if after, _ := args["after"].(string); after != "" {
				continue
			}
			first := 50
			if n, ok := args["first"].(int64); ok {
				first = int(n)
			}
			if first < 0 || first > study.MaxPage {
				continue // the field's resolver reports it
			}
			keys := make([]pageKey, len(ids))
			for i, id := range ids {
				keys[i] = pageKey{deckID: id, first: first}
			}
			t := l.firstPage.LoadAllThunk(ctx, keys)
			thunks = append(thunks, func() { _, _ = t() })
		}
	}
	// Errors are cached per key and surface from each field's own Load.
	for _, t := range thunks {
		t()
	}
}
