package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Mail is a queued email: its kind, recipient and the data its template
// needs. The message itself is composed when it is sent, so a link's token
// is made then and never stored in the database, and a message delayed by
// an SMTP outage still carries a link that works when it arrives.
type Mail struct {
	ID   string
	Kind string
	To   string
	// UserID is the account the mail is about, when it is known at the
	// time of queueing ("" for a reset request, whose address may be
	// nobody's: the sender finds out).
	UserID    string
	Data      map[string]string
	CreatedAt time.Time
	// DueAt is when the next attempt may start.
	DueAt     time.Time
	Attempts  int
	LastError string
	// Failed marks a mail the sender gave up on; it stays for an operator.
	Failed bool
}

type mailDoc struct {
	ID        bson.ObjectID     `bson:"_id"`
	Kind      string            `bson:"kind"`
	To        string            `bson:"to"`
	UserID    string            `bson:"userId,omitempty"`
	Data      map[string]string `bson:"data,omitempty"`
	CreatedAt time.Time         `bson:"createdAt"`
	DueAt     time.Time         `bson:"dueAt"`
	Attempts  int               `bson:"attempts"`
	LastError string            `bson:"lastError,omitempty"`
	Failed    bool              `bson:"failed"`
}

func (d *mailDoc) mail() Mail {
	return Mail{
		ID: d.ID.Hex(), Kind: d.Kind, To: d.To, UserID: d.UserID, Data: d.Data,
		CreatedAt: d.CreatedAt.UTC(), DueAt: d.DueAt.UTC(), Attempts: d.Attempts,
		LastError: d.LastError, Failed: d.Failed,
	}
}

// Outbox is the outbox collection: mail queued by requests, sent by the
// background sender of any instance (internal/mail). Sent mail is removed;
// mail given up on stays, marked Failed.
type Outbox struct {
	coll    *mongo.Collection
	timeout time.Duration
	indexes *Indexes
}

// NewOutbox returns the outbox collection of db and creates its index as
// NewUsers does. timeout bounds each call.
func NewOutbox(ctx context.Context, db *mongo.Database, timeout time.Duration) (*Outbox, error) {
	o := &Outbox{coll: db.Collection("outbox"), timeout: timeout}
	ix, err := createIndexes(ctx, "outbox", timeout, func(ctx context.Context) error {
		return ensureIndexes(ctx, o.coll, mongo.IndexModel{
			Keys:    bson.D{{Key: "failed", Value: 1}, {Key: "dueAt", Value: 1}},
			Options: options.Index().SetName("failed_dueAt"),
		})
	})
	if err != nil {
		return nil, err
	}
	o.indexes = ix
	return o, nil
}

// Indexes is the creation of the collection's index.
func (o *Outbox) Indexes() *Indexes { return o.indexes }

// Enqueue stores m, due at once, and returns it with its ID and times.
func (o *Outbox) Enqueue(ctx context.Context, m Mail) (Mail, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	doc := mailDoc{ID: bson.NewObjectID(), Kind: m.Kind, To: m.To, UserID: m.UserID, Data: m.Data, CreatedAt: now, DueAt: now}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if _, err := o.coll.InsertOne(ctx, doc); err != nil {
		return Mail{}, classify("queue mail", err)
	}
	return doc.mail(), nil
}

// Due returns up to limit mails not given up on whose DueAt is at or
// before now, soonest first.
func (o *Outbox) Due(ctx context.Context, now time.Time, limit int) ([]Mail, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cur, err := o.coll.Find(ctx,
		bson.D{{Key: "failed", Value: false}, {Key: "dueAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, classify("find due mail", err)
	}
	var docs []mailDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("find due mail", err)
	}
	out := make([]Mail, len(docs))
	for i := range docs {
		out[i] = docs[i].mail()
	}
	return out, nil
}

// Get returns the mail with id, or ErrNotFound once it was sent.
func (o *Outbox) Get(ctx context.Context, id string) (Mail, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Mail{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var doc mailDoc
	err = o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Mail{}, ErrNotFound
	}
	if err != nil {
		return Mail{}, classify("find mail", err)
	}
	return doc.mail(), nil
}

// Sent removes the mail with id: it was delivered, or had nothing to send.
func (o *Outbox) Sent(ctx context.Context, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if _, err := o.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		return classify("remove sent mail", err)
	}
	return nil
}

// Retry records a failed attempt: attempts so far, when the next may
// start, and why this one failed (no secrets: an SMTP error, say).
func (o *Outbox) Retry(ctx context.Context, id string, attempts int, next time.Time, lastErr string) error {
	return o.set(ctx, id, bson.D{
		{Key: "attempts", Value: attempts},
		{Key: "dueAt", Value: next.UTC().Truncate(time.Millisecond)},
		{Key: "lastError", Value: lastErr},
	})
}

// GiveUp marks the mail Failed: the sender stops trying, and the mail
// stays for an operator to look at.
func (o *Outbox) GiveUp(ctx context.Context, id string, attempts int, lastErr string) error {
	return o.set(ctx, id, bson.D{
		{Key: "attempts", Value: attempts},
		{Key: "failed", Value: true},
		{Key: "lastError", Value: lastErr},
	})
}

func (o *Outbox) set(ctx context.Context, id string, fields bson.D) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: fields}})
	if err != nil {
		return classify("update mail", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("update mail %s: %w", id, ErrNotFound)
	}
	return nil
}
