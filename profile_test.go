package main

import (
	"testing"
)

func TestMeIsAnsweredFromTheSessionAndAnonymousTouchesNoStore(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t)
	u, _ := ts.register(t, c)
	ts.awaitMailSent(t) // the verification mail's commands are not me's
	rdb := redisClient(t, ts)

	before, redisBeforeMe := mongoCommands(t, ts), rdb.dataCommands(t)
	for range 5 {
		if me := ts.me(t, c); me == nil || me.ID != u.ID || me.Email != u.Email || me.Name != u.Name || me.CreatedAt != u.CreatedAt {
			t.Fatalf("me = %+v, want %+v", me, u)
		}
	}
	if used := mongoCommands(t, ts) - before; used != 0 {
		t.Fatalf("5 me requests sent %d MongoDB commands, want 0", used)
	}
	// One Redis round trip each (the session and profile in one HMGET), no
	// write: the rolling extension is not due yet.
	if used := rdb.dataCommands(t) - redisBeforeMe; used != 5 {
		t.Fatalf("5 me requests ran %d Redis commands, want 5", used)
	}

	redisBefore := rdb.dataCommands(t)
	mongoBefore := mongoCommands(t, ts)
	anon := ts.client(t)
	for range 5 {
		if r := ts.gql(t, anon, `{ __typename me { id } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("anonymous: %+v", r.Errors)
		}
	}
	if n := rdb.dataCommands(t) - redisBefore; n != 0 {
		t.Fatalf("anonymous requests sent %d Redis commands, want 0", n)
	}
	if n := mongoCommands(t, ts) - mongoBefore; n != 0 {
		t.Fatalf("anonymous requests sent %d MongoDB commands, want 0", n)
	}
}

func TestProfileChangeIsSeenByEverySessionOnEveryInstance(t *testing.T) {
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"REDIS_URL": a.Env["REDIS_URL"], "MONGODB_DATABASE": a.Env["MONGODB_DATABASE"]})
	laptop := a.client(t)
	u, pw := a.register(t, laptop)
	phone := b.client(t)
	b.login(t, phone, u.Email, pw)
	other := a.client(t)
	taken, _ := a.register(t, other)

	const update = `mutation($i: UpdateMeInput!) { updateMe(input: $i) { id email name } }`
	if r := a.gql(t, laptop, update, map[string]any{"i": map[string]any{"email": taken.Email, "currentPassword": pw}}); r.code() != "EMAIL_TAKEN" {
		t.Fatalf("taking another user's email: %+v, want EMAIL_TAKEN", r.Errors)
	}
	if r := a.gql(t, laptop, update, map[string]any{"i": map[string]any{"name": ""}}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("empty name: %+v", r.Errors)
	}
	newEmail := "Renamed-" + randomHex(4) + "@Example.com"
	var got user
	a.must(t, laptop, update, map[string]any{"i": map[string]any{"email": newEmail, "name": "Ada Lovelace", "currentPassword": pw}}, "updateMe", &got)
	if got.Name != "Ada Lovelace" || got.Email == u.Email {
		t.Fatalf("updateMe = %+v", got)
	}
	// The very next request of the other session, on the other instance.
	if me := b.me(t, phone); me == nil || me.Name != "Ada Lovelace" || me.Email != got.Email {
		t.Fatalf("phone on B sees %+v, want the new profile", me)
	}
	if me := a.me(t, laptop); me == nil || me.Name != "Ada Lovelace" {
		t.Fatalf("laptop sees %+v", me)
	}
	b.login(t, b.client(t), newEmail, pw)
}
