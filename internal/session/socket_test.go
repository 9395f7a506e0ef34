package session_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/session"
)

// openSocket follows the session of cookie as a websocket handshake would,
// and returns the socket and a channel that yields why it ended.
func (f *fixture) openSocket(t *testing.T, cookie *http.Cookie) (*session.Socket, <-chan string) {
	t.Helper()
	ended := make(chan string, 2)
	var sock *session.Socket
	f.do(t, cookie, func(ctx context.Context) error {
		var err error
		sock, err = session.OpenSocket(ctx, func(reason string) { ended <- reason })
		return err
	})
	t.Cleanup(sock.Close)
	return sock, ended
}

func waitEnd(t *testing.T, ended <-chan string, want string, within time.Duration) {
	t.Helper()
	select {
	case got := <-ended:
		if got != want {
			t.Fatalf("session ended with %s, want %s", got, want)
		}
	case <-time.After(within):
		t.Fatalf("socket not told of the end (%s) within %v", want, within)
	}
}

func TestASocketLearnsEveryWayItsSessionEnds(t *testing.T) {
	tests := []struct {
		name string
		opts session.Options
		// end ends the session of watched; other is another session of the
		// same user.
		end  func(t *testing.T, f *fixture, watched, other *http.Cookie)
		want string
	}{
		{"logout", session.Options{}, func(t *testing.T, f *fixture, watched, _ *http.Cookie) {
			f.do(t, watched, func(ctx context.Context) error { _, err := session.SignOut(ctx); return err })
		}, session.ReasonLogout},
		{"revoked from another session", session.Options{}, func(t *testing.T, f *fixture, _, other *http.Cookie) {
			f.do(t, other, func(ctx context.Context) error {
				list, err := session.List(ctx)
				if err != nil {
					return err
				}
				for _, in := range list {
					if !in.Current {
						_, err = session.Revoke(ctx, in.ID)
					}
				}
				return err
			})
		}, session.ReasonRevoked},
		{"other sessions signed out", session.Options{}, func(t *testing.T, f *fixture, _, other *http.Cookie) {
			f.do(t, other, func(ctx context.Context) error { _, err := session.RevokeOthers(ctx); return err })
		}, session.ReasonRevoked},
		{"password changed", session.Options{}, func(t *testing.T, f *fixture, _, other *http.Cookie) {
			f.do(t, other, func(ctx context.Context) error { _, err := session.CredentialsChanged(ctx, ada, 1); return err })
		}, session.ReasonPasswordChanged},
		{"evicted beyond the maximum", session.Options{MaxPerUser: 2}, func(t *testing.T, f *fixture, _, _ *http.Cookie) {
			f.signIn(t, ada, adaProfile)
		}, session.ReasonRevoked},
		{"expired", session.Options{IdleTimeout: 600 * time.Millisecond}, func(*testing.T, *fixture, *http.Cookie, *http.Cookie) {}, session.ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.IdleTimeout == 0 {
				opts.IdleTimeout = time.Hour
			}
			opts.Lifetime, opts.Now = 24*time.Hour, time.Now
			f := newFixture(t, opts)
			watched := f.signIn(t, ada, adaProfile)
			other := f.signIn(t, ada, adaProfile)
			sock, ended := f.openSocket(t, watched)
			tt.end(t, f, watched, other)
			waitEnd(t, ended, tt.want, time.Second+opts.IdleTimeout%time.Hour)
			<-sock.Done()
			if sock.Reason() != tt.want {
				t.Errorf("Reason() = %q, want %q", sock.Reason(), tt.want)
			}
			if _, err := sock.Operation(context.Background()); !errors.Is(err, session.ErrNotSignedIn) {
				t.Errorf("Operation after the end: %v, want ErrNotSignedIn", err)
			}
		})
	}
}

func TestASocketFollowsASignInInTheSameBrowser(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, Now: time.Now})
	first := f.signIn(t, ada, adaProfile)
	sock, ended := f.openSocket(t, first)
	// The same browser signs in again: its cookie names the new session.
	second := f.do(t, first, func(ctx context.Context) error { return session.SignIn(ctx, ada, adaProfile) })
	if second.Value == first.Value {
		t.Fatal("a second sign-in kept the token")
	}
	ctx, err := sock.Operation(context.Background())
	if err != nil {
		t.Fatalf("operation after the rotation: %v", err)
	}
	if id, err := session.UserID(ctx); err != nil || id != ada {
		t.Fatalf("UserID = %q, %v", id, err)
	}
	list, err := session.List(ctx)
	if err != nil || len(list) != 1 || !list[0].Current {
		t.Fatalf("sessions seen from the socket: %+v %v, want the new one, current", list, err)
	}
	select {
	case r := <-ended:
		t.Fatalf("the rotation ended the socket's session (%s)", r)
	case <-time.After(200 * time.Millisecond):
	}
	f.do(t, second, func(ctx context.Context) error { _, err := session.SignOut(ctx); return err })
	waitEnd(t, ended, session.ReasonLogout, time.Second)
}

func TestASocketCannotSignIn(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour, Now: time.Now})
	sock, _ := f.openSocket(t, f.signIn(t, ada, adaProfile))
	ctx, err := sock.Operation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := session.CheckCanSignIn(ctx); !errors.Is(err, session.ErrNeedsHTTP) {
		t.Errorf("CheckCanSignIn = %v, want ErrNeedsHTTP", err)
	}
	if err := session.SignIn(ctx, ada, adaProfile); !errors.Is(err, session.ErrNeedsHTTP) {
		t.Errorf("SignIn = %v, want ErrNeedsHTTP", err)
	}
}

func TestASignInThatReadOldCredentialsCreatesNoSession(t *testing.T) {
	f := newFixture(t, session.Options{IdleTimeout: time.Hour, Lifetime: 24 * time.Hour})
	changer := f.signIn(t, ada, adaProfile)
	f.do(t, changer, func(ctx context.Context) error {
		n, err := session.CredentialsChanged(ctx, ada, 3)
		if err == nil && n != 0 {
			t.Errorf("ended %d sessions, want 0 (only the changer's exists)", n)
		}
		return err
	})
	tests := []struct {
		version int64
		wantErr error
	}{{0, session.ErrStaleSignIn}, {2, session.ErrStaleSignIn}, {3, nil}, {4, nil}}
	for _, tt := range tests {
		p := adaProfile
		p.CredentialVersion = tt.version
		var err error
		c := f.do(t, nil, func(ctx context.Context) error { err = session.SignIn(ctx, ada, p); return nil })
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("version %d: SignIn = %v, want %v", tt.version, err, tt.wantErr)
		}
		if tt.wantErr != nil && c != nil {
			t.Errorf("version %d: a refused sign-in set cookie %s", tt.version, c.Name)
		}
	}
	var n int
	f.do(t, changer, func(ctx context.Context) error { l, err := session.List(ctx); n = len(l); return err })
	if n != 3 {
		t.Errorf("%d sessions, want 3 (the changer's and two current sign-ins)", n)
	}
}
