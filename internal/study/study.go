// Package study is the spaced-repetition domain: the input rules for decks
// and cards, and what "not yours" means. Ownership itself is enforced by
// the store, whose every query filters by owner; this package turns its
// ErrNotFound into FORBIDDEN for changes and into "absent" for reads, so
// reads never reveal that another user's object exists.
package study

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/srs"
	"github.com/sessiongql/server/internal/store"
)

// Limits from docs/API.md ("Decks and cards").
const (
	MaxTitleChars = 200
	MaxSideChars  = 10_000
	// MaxPage bounds first and limit.
	MaxPage = 100
)

// Service changes and reads one user's decks and cards.
type Service struct {
	decks *store.Decks
	now   func() time.Time
}

// NewService returns a Service over decks.
func NewService(decks *store.Decks) *Service {
	return &Service{decks: decks, now: time.Now}
}

func errForbidden(what string) error {
	return apperr.New(apperr.Forbidden, fmt.Sprintf("That %s does not exist or is not yours.", what))
}

// forbidOnNotFound maps the store's "not found or not yours" for changes.
func forbidOnNotFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errForbidden(what)
	}
	return err
}

func checkID(field, id string) error {
	if !store.ValidID(id) {
		return apperr.Input(field, "Not a valid id.")
	}
	return nil
}

func text(field, v string, maxChars int) (string, error) {
	t := strings.TrimSpace(v)
	if !utf8.ValidString(t) {
		return "", apperr.Input(field, "Must be valid UTF-8.")
	}
	if n := utf8.RuneCountInString(t); n < 1 || n > maxChars {
		return "", apperr.Input(field, fmt.Sprintf("Must be 1 to %d characters.", maxChars))
	}
	return t, nil
}

// CreateDeck makes a deck titled title for owner.
func (s *Service) CreateDeck(ctx context.Context, owner, title string) (store.Deck, error) {
	t, err := text("title", title, MaxTitleChars)
	if err != nil {
		return store.Deck{}, err
	}
	return s.decks.Create(ctx, owner, t)
}

// RenameDeck retitles one of owner's decks; FORBIDDEN for any other.
func (s *Service) RenameDeck(ctx context.Context, owner, id, title string) (store.Deck, error) {
	if err := checkID("id", id); err != nil {
		return store.Deck{}, err
	}
	t, err := text("title", title, MaxTitleChars)
	if err != nil {
		return store.Deck{}, err
	}
	d, err := s.decks.Rename(ctx, owner, id, t)
	return d, forbidOnNotFound(err, "deck")
}

// DeleteDeck deletes one of owner's decks with its cards.
func (s *Service) DeleteDeck(ctx context.Context, owner, id string) error {
	if err := checkID("id", id); err != nil {
		return err
	}
	return forbidOnNotFound(s.decks.Delete(ctx, owner, id), "deck")
}

// AddCard adds a card to one of owner's decks, due at once.
func (s *Service) AddCard(ctx context.Context, owner, deckID, front, back string) (store.Card, error) {
	if err := checkID("deckId", deckID); err != nil {
		return store.Card{}, err
	}
	f, err := text("front", front, MaxSideChars)
	if err != nil {
		return store.Card{}, err
	}
	b, err := text("back", back, MaxSideChars)
	if err != nil {
		return store.Card{}, err
	}
	c, err := s.decks.AddCard(ctx, owner, deckID, f, b, s.now())
	return c, forbidOnNotFound(err, "deck")
}

// UpdateCard changes the given sides of one of owner's cards.
func (s *Service) UpdateCard(ctx context.Context, owner, id string, front, back *string) (store.Card, error) {
	if err := checkID("id", id); err != nil {
		return store.Card{}, err
	}
	for _, side := range []struct {
		field string
		v     *string
	}{{"front", front}, {"back", back}} {
		if side.v == nil {
			continue
		}
		t, err := text(side.field, *side.v, MaxSideChars)
		if err != nil {
			return store.Card{}, err
		}
		*side.v = t
	}
	c, err := s.decks.UpdateCard(ctx, owner, id, front, back)
	return c, forbidOnNotFound(err, "card")
}

// DeleteCard deletes one of owner's cards.
func (s *Service) DeleteCard(ctx context.Context, owner, id string) error {
	if err := checkID("id", id); err != nil {
		return err
	}
	return forbidOnNotFound(s.decks.DeleteCard(ctx, owner, id), "card")
}

// ReviewCard records a review graded 0 to 5 and reschedules by SM-2.
func (s *Service) ReviewCard(ctx context.Context, owner, id string, grade int) (store.Card, error) {
	if err := checkID("id", id); err != nil {
		return store.Card{}, err
	}
	if srs.CheckGrade(grade) != nil {
		return store.Card{}, apperr.Input("grade", "Grade must be from 0 to 5.")
	}
	c, err := s.decks.ReviewCard(ctx, owner, id, grade, s.now())
	return c, forbidOnNotFound(err, "card")
}

// Decks lists owner's decks, newest first.
func (s *Service) Decks(ctx context.Context, owner string) ([]store.Deck, error) {
	return s.decks.List(ctx, owner)
}

// Deck returns one of owner's decks, or nil for any other id.
func (s *Service) Deck(ctx context.Context, owner, id string) (*store.Deck, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	d, err := s.decks.Deck(ctx, owner, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// DueCards returns owner's cards due now, soonest first, from one deck
// (another user's deck has none) or all.
func (s *Service) DueCards(ctx context.Context, owner string, deckID *string, limit int) ([]store.Card, error) {
	if deckID != nil {
		if err := checkID("deckId", *deckID); err != nil {
			return nil, err
		}
	}
	if limit < 1 || limit > MaxPage {
		return nil, apperr.Input("limit", fmt.Sprintf("Limit must be from 1 to %d.", MaxPage))
	}
	return s.decks.DueCards(ctx, owner, deckID, s.now(), limit)
}

// CheckFirst validates a page size.
func CheckFirst(first int) error {
	if first < 0 || first > MaxPage {
		return apperr.Input("first", fmt.Sprintf("First must be from 0 to %d.", MaxPage))
	}
	return nil
}

// CardsPage returns a page of one deck's cards after the cursor.
func (s *Service) CardsPage(ctx context.Context, owner, deckID string, first int, after string) ([]store.Card, bool, error) {
	cards, more, err := s.decks.CardsPage(ctx, owner, deckID, first, after)
	if errors.Is(err, store.ErrBadCursor) {
		return nil, false, apperr.Input("after", "Not a cursor from this list.")
	}
	return cards, more, err
}
