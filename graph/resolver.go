// Package graph is the GraphQL edge: the schema, thin resolvers that call the
// domain packages, and the one place that turns errors into GraphQL errors.
package graph

import (
	"github.com/sessiongql/server/graph/model"
	"github.com/sessiongql/server/internal/account"
	"github.com/sessiongql/server/internal/session"
	"github.com/sessiongql/server/internal/store"
	"github.com/sessiongql/server/internal/study"
)

// Resolver holds the resolvers' dependencies and nothing else.
type Resolver struct {
	Accounts *account.Service
	Study    *study.Service
	// Decks backs the per-request batch loaders of deck fields.
	Decks *store.Decks
	// SecurityLog is read by securityEvents (written through Accounts).
	SecurityLog *store.SecurityEvents
	// Subscriptions counts open subscriptions (a metrics gauge).
	Subscriptions Gauge
}

// Gauge is a number that goes up and down, e.g. a prometheus.Gauge.
type Gauge interface {
	Inc()
	Dec()
}

func userModel(u store.User) *model.User {
	return &model.User{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt, EmailVerified: u.EmailVerified, TotpEnabled: u.TotpEnabled()}
}

func sessionModel(in session.Info) model.Session {
	s := model.Session{
		ID: in.ID, Current: in.Current,
		CreatedAt: in.CreatedAt, LastSeenAt: in.LastSeenAt, ExpiresAt: in.ExpiresAt,
	}
	if in.UserAgent != "" {
		s.UserAgent = &in.UserAgent
	}
	if in.IP != "" {
		s.IP = &in.IP
	}
	return s
}

func profileOf(u store.User) session.Profile {
	return session.Profile{Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt, EmailVerified: u.EmailVerified, TotpEnabled: u.TotpEnabled(), CredentialVersion: u.CredentialVersion}
}
