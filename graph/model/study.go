package model

import "time"

// Deck is a deck without its computed fields (cardCount, dueCount, cards),
// which resolvers load in batches.
type Deck struct {
	ID        string
	Title     string
	CreatedAt time.Time
}

// Card is a card; its deck is resolved from DeckID in batches.
type Card struct {
	ID           string
	DeckID       string
	Front        string
	Back         string
	DueAt        time.Time
	IntervalDays int
	Ease         float64
	Reviews      int
}
