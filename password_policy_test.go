package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"
)

// The password rules of docs/API.md ("Input rules"): NFC normalization, and
// zxcvbn's verdict on new passwords.

func TestNewPasswordsMustBeHardToGuess(t *testing.T) {
	tests := []struct {
		name, minScore, password string
		refused                  bool
		because                  string // in the message when refused
	}{
		{"a common password", "", "password1", true, "common"},
		{"a keyboard walk", "", "qwertyuiop", true, "common"},
		{"a repeat", "", "abcabcabcabc", true, "repeat"},
		{"the email itself", "", "{email}", true, "email or name"},
		{"a passphrase", "", "correct horse " + randomHex(4), false, ""},
		{"a common password with PASSWORD_MIN_SCORE=0", "0", "password1", false, ""},
		{"a score-3 password with PASSWORD_MIN_SCORE=4", "4", "correct horse", true, ""},
		{"a score-3 password with PASSWORD_MIN_SCORE=3", "3", "correct horse", false, ""},
	}
	servers := map[string]*testServer{}
	for _, tt := range tests {
		if servers[tt.minScore] == nil {
			env := map[string]string{"REGISTER_LIMIT_PER_IP": "1000"}
			if tt.minScore != "" {
				env["PASSWORD_MIN_SCORE"] = tt.minScore
			}
			servers[tt.minScore] = startServer(t, env)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := servers[tt.minScore]
			email := "policy-" + randomHex(5) + "@example.com"
			pw := strings.ReplaceAll(tt.password, "{email}", email)
			c := ts.client(t)
			r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": email, "password": pw, "name": "Policy Tester"}})
			if !tt.refused {
				if len(r.Errors) > 0 {
					t.Fatalf("register refused %q: %+v", pw, r.Errors)
				}
				return
			}
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "password" {
				t.Fatalf("register with %q: %+v, want BAD_USER_INPUT on password", pw, r.Errors)
			}
			msg := r.Errors[0].Message
			if !strings.Contains(strings.ToLower(msg), tt.because) || strings.Contains(msg, pw) {
				t.Fatalf("message %q should say why (%q) without repeating the password", msg, tt.because)
			}
		})
	}
	// The rule holds for changePassword and resetPassword's newPassword too
	// (resetPassword: TestResetTokensWorkOnceAndOnlyTheNewest).
	ts := servers[""]
	c := ts.client(t)
	_, pw := ts.register(t, c)
	r := ts.gql(t, c, changePasswordMutation, map[string]any{"i": map[string]any{"currentPassword": pw, "newPassword": "1q2w3e4r5t"}})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
		t.Fatalf("changePassword to a keyboard pattern: %+v, want BAD_USER_INPUT on newPassword", r.Errors)
	}
}

func TestPasswordsAreComparedInNFC(t *testing.T) {
	ts := startServer(t, nil)
	const (
		nfc = "M\u00e1laga caf\u00e9 passphrase"   // precomposed
		nfd = "Ma\u0301laga cafe\u0301 passphrase" // decomposed: other bytes
	)
	for _, typed := range []struct{ register, login string }{{nfc, nfd}, {nfd, nfc}} {
		email := "nfc-" + randomHex(5) + "@example.com"
		if r := ts.gql(t, ts.client(t), registerMutation, map[string]any{"i": map[string]any{"email": email, "password": typed.register, "name": "N"}}); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		for _, pw := range []string{typed.login, typed.register} {
			if r := ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": email, "password": pw}}); len(r.Errors) > 0 {
				t.Fatalf("registered as %+q, login as %+q: %+v", typed.register, pw, r.Errors)
			}
		}
	}
}

func TestPasswordHashedBeforeNormalizationStillSignsInAndIsRehashed(t *testing.T) {
	ts := startServer(t, nil)
	const (
		nfd = "Ma\u0301laga cafe\u0301 passphrase"
		nfc = "M\u00e1laga caf\u00e9 passphrase"
	)
	// An account made before passwords were normalized: its hash is of the
	// bytes as typed (NFD here).
	client, err := mongo.Connect(options.Client().ApplyURI(testMongoURI))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	users := client.Database(ts.Env["MONGODB_DATABASE"]).Collection("users")
	legacy, err := bcrypt.GenerateFromPassword([]byte(nfd), 4)
	if err != nil {
		t.Fatal(err)
	}
	email := "legacy-" + randomHex(5) + "@example.com"
	id := bson.NewObjectID()
	if _, err := users.InsertOne(t.Context(), bson.D{{Key: "_id", Value: id}, {Key: "email", Value: email}, {Key: "name", Value: "Old"},
		{Key: "passwordHash", Value: legacy}, {Key: "createdAt", Value: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	login := func(pw string) gqlResponse {
		return ts.gql(t, ts.client(t), loginMutation, map[string]any{"i": map[string]any{"email": email, "password": pw}})
	}
	if r := login(nfd); len(r.Errors) > 0 {
		t.Fatalf("the legacy account, typed as before: %+v", r.Errors)
	}
	var doc struct {
		PasswordHash []byte `bson:"passwordHash"`
	}
	if err := users.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(doc.PasswordHash, []byte(nfc)) != nil {
		t.Fatal("the sign-in did not rehash the password in its NFC form")
	}
	for _, pw := range []string{nfc, nfd} {
		if r := login(pw); len(r.Errors) > 0 {
			t.Fatalf("after the rehash, %+q: %+v", pw, r.Errors)
		}
	}
	if r := login("Malaga cafe passphrase"); r.code() != "INVALID_CREDENTIALS" {
		t.Fatalf("another password: %+v", r.Errors)
	}
}
