package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/sessiongql/server/internal/mail"
	"github.com/sessiongql/server/internal/securitylog"
	"github.com/sessiongql/server/internal/store"
)

// nobody is a user id no account has (the zero ObjectID): the events of an
// unknown email are written under it, so a sign-in or a reset request
// does the same work whether or not the account exists. No log lists them,
// and they expire with the rest.
const nobody = "000000000000000000000000"

// recordAnyone writes an event for userID, or under nobody for an unknown
// email ("").
func (s *Service) recordAnyone(ctx context.Context, userID, kind string) {
	if userID == "" {
		userID = nobody
	}
	ip, ua := s.client(ctx)
	s.events.Record(ctx, store.SecurityEvent{UserID: userID, Kind: kind, IP: ip, UserAgent: ua})
}

// Recorder writes security log events; it never fails its caller
// (internal/securitylog).
type Recorder interface {
	Record(ctx context.Context, e store.SecurityEvent)
}

// Record writes an event of kind to userID's security log, with the
// client address and User-Agent of the request behind ctx. A failure is
// the recorder's to log: the request goes on.
func (s *Service) Record(ctx context.Context, userID, kind string) {
	if userID == "" {
		return
	}
	ip, ua := s.client(ctx)
	s.events.Record(ctx, store.SecurityEvent{UserID: userID, Kind: kind, IP: ip, UserAgent: ua})
}

// SignedIn records a completed sign-in of u (a password, a second factor,
// a reset or a passkey) and, when this browser on this system has not
// signed in to u before, mails u a notice naming it.
func (s *Service) SignedIn(ctx context.Context, u store.User) {
	s.Record(ctx, u.ID, securitylog.SignedIn)
	ip, ua := s.client(ctx)
	device := mail.DescribeBrowser(ua)
	isNew, err := s.users.SeeDevice(ctx, u.ID, deviceDigest(device))
	if err != nil {
		s.logger.WarnContext(ctx, "account: could not record the browser of a sign-in", "user", u.ID, "err", err)
		return
	}
	if isNew {
		s.queueAfter(ctx, "sign-in", noticeMail(u, mailNewSignIn, map[string]string{"device": device, "ip": ip}))
	}
}

// seeFirstDevice records the browser an account was registered from, so
// its first sign-ins there send no notice.
func (s *Service) seeFirstDevice(ctx context.Context, u store.User) {
	_, ua := s.client(ctx)
	if _, err := s.users.SeeDevice(ctx, u.ID, deviceDigest(mail.DescribeBrowser(ua))); err != nil {
		s.logger.WarnContext(ctx, "account: could not record the browser of a registration", "user", u.ID, "err", err)
	}
}

// deviceDigest keeps what browser on what system, not the User-Agent, so
// a browser update is no new device.
func deviceDigest(device string) string {
	sum := sha256.Sum256([]byte(device))
	return hex.EncodeToString(sum[:8])
}
