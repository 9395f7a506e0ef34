package graph

import (
	"context"
	"fmt"

	"github.com/sessiongql/server/graph/model"
	"github.com/sessiongql/server/internal/apperr"
	"github.com/sessiongql/server/internal/session"
	"github.com/sessiongql/server/internal/store"
)

// errNoPendingSignIn answers verifySecondFactor without a pending sign-in
// on the cookie: none began, it expired, or it was completed already.
func errNoPendingSignIn() error {
	return apperr.New(apperr.Unauthenticated, "Sign in with your password first; the second step waits 5 minutes.")
}

// refreshProfile writes the user's profile, as the database has it now,
// where all their sessions read it (a change of totpEnabled, say).
func (r *Resolver) refreshProfile(ctx context.Context, userID string) error {
	u, err := r.Accounts.User(ctx, userID)
	if err != nil {
		return fmt.Errorf("refresh profile: %w", err)
	}
	return session.RefreshProfile(ctx, u.ID, profileOf(u))
}

func securityConnection(events []store.SecurityEvent, hasNext bool) *model.SecurityEventConnection {
	conn := &model.SecurityEventConnection{Edges: make([]model.SecurityEventEdge, len(events)), PageInfo: &model.PageInfo{HasNextPage: hasNext}}
	for i, e := range events {
		node := &model.SecurityEvent{ID: e.ID, Kind: model.SecurityEventKind(e.Kind), At: e.At}
		if e.IP != "" {
			node.IP = &e.IP
		}
		if e.UserAgent != "" {
			node.UserAgent = &e.UserAgent
		}
		conn.Edges[i] = model.SecurityEventEdge{Cursor: e.ID, Node: node}
	}
	if n := len(events); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn
}

func passkeyModel(k store.Passkey) *model.Passkey {
	return &model.Passkey{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}
