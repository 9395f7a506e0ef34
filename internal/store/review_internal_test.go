package store

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/devstack"
	"github.com/sessiongql/server/internal/srs"
)

// TestStaleReviewIsNotSaved shows the lost-update guard of ReviewCard one
// step at a time: a review computed from a card that has been reviewed
// since it was read is refused, and the card keeps the newer review.
// (Concurrent reviews cannot show it on FerretDB, whose updates are not
// atomic; see ReviewCard.)
func TestStaleReviewIsNotSaved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, err := devstack.StartMongo(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatalf("StartMongo: %v", err)
	}
	t.Cleanup(m.Close)
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	d, err := NewDecks(ctx, client.Database("review_"+bson.NewObjectID().Hex()), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}

	t0 := time.Date(2025, 3, 30, 8, 0, 0, 0, time.UTC)
	owner := bson.NewObjectID().Hex()
	deck, err := d.Create(ctx, owner, "deck")
	if err != nil {
		t.Fatal(err)
	}
	card, err := d.AddCard(ctx, owner, deck.ID, "front", "back", t0)
	if err != nil {
		t.Fatal(err)
	}
	filter, _ := ownedFilter(owner, card.ID)
	stale, err := d.findCard(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}

	winner, err := d.ReviewCard(ctx, owner, card.ID, 5, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	lost, err := srs.Review(stale.state(), 1, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := d.saveReview(ctx, &stale, lost)
	if err != nil || saved {
		t.Fatalf("saveReview from a stale read = %v, %v; want false", saved, err)
	}
	if got, err := d.Card(ctx, owner, card.ID); err != nil || got != winner {
		t.Errorf("card after the stale save: %+v, %v; want the winner's %+v", got, err, winner)
	}

	// Read again, the same review goes on top of the winner's.
	after, err := d.ReviewCard(ctx, owner, card.ID, 1, t0.Add(2*time.Hour))
	if err != nil || after.Reviews != 2 || after.Streak != 0 || after.Ease != 2.06 {
		t.Errorf("review after the winner's = %+v, %v; want the second review, a lapse from ease 2.6", after, err)
	}
}
