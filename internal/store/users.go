// Package store owns the MongoDB documents and queries of the application.
// It speaks only features that both MongoDB and FerretDB support (no
// transactions), so the in-process development database and a real MongoDB
// take the same code path.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessiongql/server/internal/apperr"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrEmailTaken = errors.New("email already in use")
)

// User is a stored account. Email is normalized (trimmed, lower-case) by
// the caller; the unique index is on it.
type User struct {
	ID           string
	Email        string
	Name         string
	PasswordHash []byte
	CreatedAt    time.Time
	// CredentialVersion counts the user's password changes. A sign-in
	// reads it with the hash it checks, so that a password change made
	// meanwhile can refuse that sign-in (session.CredentialsChanged).
	CredentialVersion int64
	// EmailVerified is set by a verification link or a password reset
	// (both prove the address), and cleared when the email changes.
	EmailVerified bool

	// TotpSecret is the encrypted secret of the second factor, nil while
	// TOTP is off; TotpPending one awaiting its first code, until
	// TotpPendingUntil.
	TotpSecret       *Sealed
	TotpPending      *Sealed
	TotpPendingUntil time.Time
	// RecoveryCodes are the hashes of the unused recovery codes.
	RecoveryCodes []string
}

// TotpEnabled reports whether sign-in asks for a second factor.
func (u User) TotpEnabled() bool { return u.TotpSecret != nil }

// Sealed is a secret encrypted at rest (internal/secretbox): the id of the
// key that sealed it, beside the ciphertext, so keys can be rotated.
type Sealed struct {
	KeyID string `bson:"keyId"`
	Data  []byte `bson:"data"`
}

type pendingTotpDoc struct {
	Sealed `bson:",inline"`
	Until  time.Time `bson:"until"`
}

type userDoc struct {
	ID           bson.ObjectID `bson:"_id"`
	Email        string        `bson:"email"`
	Name         string        `bson:"name"`
	PasswordHash []byte        `bson:"passwordHash"`
	CreatedAt    time.Time     `bson:"createdAt"`
	// Absent from documents older than the field: version 0.
	CredentialVersion int64 `bson:"credentialVersion,omitempty"`
	// Absent from documents older than the field: not verified.
	EmailVerified bool            `bson:"emailVerified"`
	Totp          *Sealed         `bson:"totp,omitempty"`
	TotpPending   *pendingTotpDoc `bson:"totpPending,omitempty"`
	RecoveryCodes []string        `bson:"recoveryCodes,omitempty"`
	SeenDevices   []string        `bson:"seenDevices,omitempty"`
}

func (d *userDoc) user() User {
	u := User{ID: d.ID.Hex(), Email: d.Email, Name: d.Name, PasswordHash: d.PasswordHash, CreatedAt: d.CreatedAt.UTC(),
		CredentialVersion: d.CredentialVersion, EmailVerified: d.EmailVerified, TotpSecret: d.Totp, RecoveryCodes: d.RecoveryCodes}
	if d.TotpPending != nil {
		sealed := d.TotpPending.Sealed
		u.TotpPending, u.TotpPendingUntil = &sealed, d.TotpPending.Until.UTC()
	}
	return u
}

// Users is the users collection.
type Users struct {
	coll    *mongo.Collection
	timeout time.Duration
	indexes *Indexes
}

// NewUsers returns the users collection of db and creates its unique email
// index if missing: at once if MongoDB answers within timeout, else in the
// background until it does or ctx ends (see [Indexes]). It fails only when
// MongoDB answers and refuses the index (duplicate emails, say). timeout
// bounds each call.
func NewUsers(ctx context.Context, db *mongo.Database, timeout time.Duration) (*Users, error) {
	u := &Users{coll: db.Collection("users"), timeout: timeout}
	ix, err := createIndexes(ctx, "users", timeout, func(ctx context.Context) error {
		return ensureIndexes(ctx, u.coll, mongo.IndexModel{
			Keys:    bson.D{{Key: "email", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("email_unique"),
		})
	})
	if err != nil {
		return nil, err
	}
	u.indexes = ix
	return u, nil
}

// Indexes is the creation of the collection's indexes, for readiness
// checks and shutdown.
func (u *Users) Indexes() *Indexes { return u.indexes }

// Create inserts u and returns it with its new ID and creation time
// (millisecond precision, as MongoDB stores it). ErrEmailTaken when the
// email is in use.
func (u *Users) Create(ctx context.Context, user User) (User, error) {
	if err := u.uniqueEmails(); err != nil {
		return User{}, err
	}
	doc := userDoc{
		ID:           bson.NewObjectID(),
		Email:        user.Email,
		Name:         user.Name,
		PasswordHash: user.PasswordHash,
		CreatedAt:    time.Now().UTC().Truncate(time.Millisecond),
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	if _, err := u.coll.InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return User{}, ErrEmailTaken
		}
		return User{}, classify("insert user", err)
	}
	return doc.user(), nil
}

// uniqueEmails refuses writes of an email until the unique index exists
// (MongoDB that appeared after start-up gets it a moment later): two
// accounts for one email would keep the index from ever being created.
func (u *Users) uniqueEmails() error {
	if err := u.indexes.Ready(); err != nil {
		return fmt.Errorf("write user: %w: %w", apperr.ErrUnavailable, err)
	}
	return nil
}

// ByEmail returns the user with the normalized email, or ErrNotFound.
func (u *Users) ByEmail(ctx context.Context, email string) (User, error) {
	return u.findOne(ctx, bson.D{{Key: "email", Value: email}})
}

// ByID returns the user with id, or ErrNotFound (also for a malformed id).
func (u *Users) ByID(ctx context.Context, id string) (User, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return User{}, ErrNotFound
	}
	return u.findOne(ctx, bson.D{{Key: "_id", Value: oid}})
}

func (u *Users) findOne(ctx context.Context, filter bson.D) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var doc userDoc
	err := u.coll.FindOne(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, classify("find user", err)
	}
	return doc.user(), nil
}

// classify marks failures to reach the database as apperr.ErrUnavailable, so the
// edge can answer SERVICE_UNAVAILABLE; other errors stay internal.
func classify(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("%s: %w: %w", op, apperr.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// SetPassword replaces the user's password hash and advances their
// credential version, in one update; it returns the user as updated.
// ErrNotFound when the user is gone.
func (u *Users) SetPassword(ctx context.Context, id string, hash []byte) (User, error) {
	return u.setPassword(ctx, id, "", hash)
}

// ResetPassword is SetPassword for a reset link mailed to email: it
// applies only while the user's email is still that address, and marks
// it verified, since the link proved it. ErrNotFound when the user is gone
// or their email has changed.
func (u *Users) ResetPassword(ctx context.Context, id, email string, hash []byte) (User, error) {
	return u.setPassword(ctx, id, email, hash)
}

func (u *Users) setPassword(ctx context.Context, id, email string, hash []byte) (User, error) {
	filter := bson.D{{Key: "_id", Value: oid(id)}}
	set := bson.D{{Key: "passwordHash", Value: hash}}
	if email != "" {
		filter = append(filter, bson.E{Key: "email", Value: email})
		set = append(set, bson.E{Key: "emailVerified", Value: true})
	}
	return u.findAndUpdate(ctx, "update password", filter, bson.D{
		{Key: "$set", Value: set},
		{Key: "$inc", Value: bson.D{{Key: "credentialVersion", Value: int64(1)}}},
	})
}

// Rehash replaces the user's password hash with one of the same password
// (a sign-in found it hashed before passwords were normalized), only if it
// is still old: a password change meanwhile wins. The credential version
// stays: no session ends.
func (u *Users) Rehash(ctx context.Context, id string, old, hash []byte) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	_, err = u.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: oid}, {Key: "passwordHash", Value: old}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}}}})
	if err != nil {
		return classify("rehash password", err)
	}
	return nil
}

// MarkVerified sets EmailVerified for the user while their email is still
// email (the address a verification link was sent to) and returns the
// user. ErrNotFound when the user is gone or their email has changed.
func (u *Users) MarkVerified(ctx context.Context, id, email string) (User, error) {
	return u.findAndUpdate(ctx, "mark email verified",
		bson.D{{Key: "_id", Value: oid(id)}, {Key: "email", Value: email}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "emailVerified", Value: true}}}})
}

// findAndUpdate runs one update and returns the user as updated;
// ErrNotFound when filter matches no user.
func (u *Users) findAndUpdate(ctx context.Context, op string, filter, update bson.D) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var doc userDoc
	err := u.coll.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return User{}, ErrNotFound
	case err != nil:
		return User{}, classify(op, err)
	}
	return doc.user(), nil
}

// UpdateProfile sets the user's email and name (normalized by the caller)
// and returns the updated user. A new email is not verified yet: the
// update clears EmailVerified unless the email stays what it was.
// ErrEmailTaken when another user has the email, ErrNotFound when the
// user is gone.
func (u *Users) UpdateProfile(ctx context.Context, id, email, name string) (User, error) {
	if err := u.uniqueEmails(); err != nil {
		return User{}, err
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return User{}, ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	// Two updates, each conditional on the stored email, rather than an
	// aggregation pipeline update, which FerretDB v1 lacks: the name alone
	// when the email stays, else the new email unverified.
	var doc userDoc
	err = u.coll.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: oid}, {Key: "email", Value: email}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = u.coll.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: oid}, {Key: "email", Value: bson.D{{Key: "$ne", Value: email}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: email}, {Key: "name", Value: name}, {Key: "emailVerified", Value: false}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After),
		).Decode(&doc)
	}
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return User{}, ErrNotFound
	case isUniqueViolation(err):
		return User{}, ErrEmailTaken
	case err != nil:
		return User{}, classify("update user", err)
	}
	return doc.user(), nil
}

// isUniqueViolation recognizes a duplicate key on update. MongoDB reports
// E11000 (mongo.IsDuplicateKeyError); FerretDB v1 reports its SQLite
// constraint as an internal error instead.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var ce mongo.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Message, "UNIQUE constraint failed")
}

// SetTotpPending stores a second-factor secret awaiting its first code,
// until until, replacing any earlier one.
func (u *Users) SetTotpPending(ctx context.Context, id string, secret Sealed, until time.Time) error {
	return u.update(ctx, "set pending totp", bson.D{{Key: "_id", Value: oid(id)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "totpPending", Value: pendingTotpDoc{Sealed: secret, Until: until.UTC().Truncate(time.Millisecond)}}}}})
}

// EnableTotp turns the second factor on with the pending secret, if it
// is still secret (a newer setup replaced nothing meanwhile), and stores
// the recovery codes' hashes. ErrNotFound otherwise.
func (u *Users) EnableTotp(ctx context.Context, id string, secret Sealed, recoveryHashes []string) error {
	return u.update(ctx, "enable totp",
		bson.D{{Key: "_id", Value: oid(id)}, {Key: "totpPending.data", Value: secret.Data}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "totp", Value: secret}, {Key: "recoveryCodes", Value: recoveryHashes}}},
			{Key: "$unset", Value: bson.D{{Key: "totpPending", Value: ""}}},
		})
}

// DisableTotp turns the second factor off and drops its recovery codes.
func (u *Users) DisableTotp(ctx context.Context, id string) error {
	return u.update(ctx, "disable totp", bson.D{{Key: "_id", Value: oid(id)}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "totp", Value: ""}, {Key: "totpPending", Value: ""}, {Key: "recoveryCodes", Value: ""}}}})
}

// SetRecoveryCodes replaces the recovery codes' hashes while the second
// factor is on; ErrNotFound otherwise.
func (u *Users) SetRecoveryCodes(ctx context.Context, id string, hashes []string) error {
	return u.update(ctx, "set recovery codes",
		bson.D{{Key: "_id", Value: oid(id)}, {Key: "totp", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "recoveryCodes", Value: hashes}}}})
}

// UseRecoveryCode removes the recovery code with hash, reporting whether
// it was there and how many are left. Callers guard against two requests
// spending one code at once (FerretDB updates read, then write).
func (u *Users) UseRecoveryCode(ctx context.Context, id, hash string) (remaining int, ok bool, err error) {
	user, err := u.findAndUpdate(ctx, "use recovery code",
		bson.D{{Key: "_id", Value: oid(id)}, {Key: "recoveryCodes", Value: hash}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "recoveryCodes", Value: hash}}}})
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return len(user.RecoveryCodes), true, nil
}

// SeeDevice records that the user signed in from device (a digest of
// what browser on what system), reporting whether it was new.
func (u *Users) SeeDevice(ctx context.Context, id, device string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	res, err := u.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: oid(id)}, {Key: "seenDevices", Value: bson.D{{Key: "$ne", Value: device}}}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "seenDevices", Value: device}}}})
	if err != nil {
		return false, classify("record device", err)
	}
	return res.ModifiedCount == 1, nil
}

// oid is id as an ObjectID; a malformed id becomes the zero ObjectID,
// which matches no user.
func oid(id string) bson.ObjectID {
	o, _ := bson.ObjectIDFromHex(id)
	return o
}

// update runs one update, ErrNotFound when filter matches no user.
func (u *Users) update(ctx context.Context, op string, filter, update bson.D) error {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	res, err := u.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return classify(op, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}
