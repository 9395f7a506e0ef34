package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrPasskeyTaken is Add's answer for a credential id that is stored
// already (an authenticator registered twice).
var ErrPasskeyTaken = errors.New("passkey already registered")

// Passkey is a stored WebAuthn credential of a user: what verifying its
// assertions needs, and how the user knows it.
type Passkey struct {
	// ID is the credential id, base64url without padding, as browsers
	// and the GraphQL API show it.
	ID        string
	UserID    string
	Name      string
	PublicKey []byte
	// SignCount is the authenticator's signature counter at its last use
	// (0 for authenticators that keep none).
	SignCount  uint32
	Transports []string
	AAGUID     []byte
	// AttestationType is go-webauthn's, kept for audits.
	AttestationType string
	// BackupEligible and BackupState are the authenticator data's BE and
	// BS flags: whether the passkey may be, and is, synced elsewhere.
	BackupEligible, BackupState bool
	CreatedAt                   time.Time
	LastUsedAt                  *time.Time
}

type passkeyDoc struct {
	ID              string        `bson:"_id"`
	UserID          bson.ObjectID `bson:"userId"`
	Name            string        `bson:"name"`
	PublicKey       []byte        `bson:"publicKey"`
	SignCount       int64         `bson:"signCount"`
	Transports      []string      `bson:"transports,omitempty"`
	AAGUID          []byte        `bson:"aaguid,omitempty"`
	AttestationType string        `bson:"attestationType,omitempty"`
	BackupEligible  bool          `bson:"backupEligible"`
	BackupState     bool          `bson:"backupState"`
	CreatedAt       time.Time     `bson:"createdAt"`
	LastUsedAt      *time.Time    `bson:"lastUsedAt,omitempty"`
}

func (d *passkeyDoc) passkey() Passkey {
	p := Passkey{ID: d.ID, UserID: d.UserID.Hex(), Name: d.Name, PublicKey: d.PublicKey, SignCount: uint32(d.SignCount),
		Transports: d.Transports, AAGUID: d.AAGUID, AttestationType: d.AttestationType,
		BackupEligible: d.BackupEligible, BackupState: d.BackupState, CreatedAt: d.CreatedAt.UTC()}
	if d.LastUsedAt != nil {
		t := d.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

// Passkeys is the passkeys collection, keyed by credential id (so a
// sign-in finds its credential by _id, which FerretDB also looks up
// without a scan).
type Passkeys struct {
	coll    *mongo.Collection
	timeout time.Duration
	indexes *Indexes
}

// NewPasskeys returns the passkeys collection of db and creates its index
// as NewUsers does.
func NewPasskeys(ctx context.Context, db *mongo.Database, timeout time.Duration) (*Passkeys, error) {
	p := &Passkeys{coll: db.Collection("passkeys"), timeout: timeout}
	ix, err := createIndexes(ctx, "passkeys", timeout, func(ctx context.Context) error {
		return ensureIndexes(ctx, p.coll, mongo.IndexModel{
			Keys:    bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: -1}},
			Options: options.Index().SetName("user_created"),
		})
	})
	if err != nil {
		return nil, err
	}
	p.indexes = ix
	return p, nil
}

// Indexes is the creation of the collection's index.
func (p *Passkeys) Indexes() *Indexes { return p.indexes }

// Add stores k, created now, and returns it. ErrPasskeyTaken when its id
// is stored already.
func (p *Passkeys) Add(ctx context.Context, k Passkey) (Passkey, error) {
	user, ok := parseID(k.UserID)
	if !ok {
		return Passkey{}, ErrNotFound
	}
	doc := passkeyDoc{ID: k.ID, UserID: user, Name: k.Name, PublicKey: k.PublicKey, SignCount: int64(k.SignCount),
		Transports: k.Transports, AAGUID: k.AAGUID, AttestationType: k.AttestationType,
		BackupEligible: k.BackupEligible, BackupState: k.BackupState,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if _, err := p.coll.InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) || isUniqueViolation(err) {
			return Passkey{}, ErrPasskeyTaken
		}
		return Passkey{}, classify("insert passkey", err)
	}
	return doc.passkey(), nil
}

// ByUser returns the user's passkeys, newest first.
func (p *Passkeys) ByUser(ctx context.Context, userID string) ([]Passkey, error) {
	user, ok := parseID(userID)
	if !ok {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	cur, err := p.coll.Find(ctx, bson.D{{Key: "userId", Value: user}}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, classify("find passkeys", err)
	}
	var docs []passkeyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, classify("find passkeys", err)
	}
	out := make([]Passkey, len(docs))
	for i := range docs {
		out[i] = docs[i].passkey()
	}
	return out, nil
}

// ByID returns the passkey with credential id, or ErrNotFound.
func (p *Passkeys) ByID(ctx context.Context, id string) (Passkey, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var doc passkeyDoc
	err := p.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Passkey{}, ErrNotFound
	}
	if err != nil {
		return Passkey{}, classify("find passkey", err)
	}
	return doc.passkey(), nil
}

// Remove deletes the user's passkey with id, reporting whether there was
// one: another user's passkey stays.
func (p *Passkeys) Remove(ctx context.Context, userID, id string) (bool, error) {
	user, ok := parseID(userID)
	if !ok {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	res, err := p.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "userId", Value: user}})
	if err != nil {
		return false, classify("remove passkey", err)
	}
	return res.DeletedCount == 1, nil
}

// Used records a sign-in with the passkey at at: its new signature
// counter and backup state.
func (p *Passkeys) Used(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err := p.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "signCount", Value: int64(signCount)},
		{Key: "backupState", Value: backupState},
		{Key: "lastUsedAt", Value: at.UTC().Truncate(time.Millisecond)},
	}}})
	if err != nil {
		return classify("record passkey use", err)
	}
	return nil
}
