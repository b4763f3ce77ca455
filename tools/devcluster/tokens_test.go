package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTokenFileReview(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	content := "# token,user,uid,groups,expires\n" +
		"forever,alice,u1,\"system:masters,team\"\n" +
		"short,bob,u2,,2026-01-01T12:00:05Z\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got := review(path, "forever", now)
	if !got.Authenticated || got.User.Username != "alice" || len(got.User.Groups) != 2 || got.User.Groups[1] != "team" {
		t.Errorf("forever: %+v", got)
	}
	if got := review(path, "short", now.Add(4*time.Second)); !got.Authenticated || got.User.Username != "bob" {
		t.Errorf("short before expiry: %+v", got)
	}
	if got := review(path, "short", now.Add(5*time.Second)); got.Authenticated || got.Error != "token expired at 2026-01-01T12:00:05Z" {
		t.Errorf("short at expiry: %+v", got)
	}
	if got := review(path, "other", now); got.Authenticated || got.Error != "unknown token" {
		t.Errorf("unknown: %+v", got)
	}
	// Rewritten between two reviews: the second sees the new file.
	if err := os.WriteFile(path, []byte("rotated,carol,u3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := review(path, "forever", now); got.Authenticated {
		t.Errorf("removed token still accepted: %+v", got)
	}
	if got := review(path, "rotated", now); !got.Authenticated || got.User.Username != "carol" {
		t.Errorf("rotated: %+v", got)
	}
	if err := os.WriteFile(path, []byte("lonely\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := review(path, "lonely", now); got.Authenticated || got.Error == "" {
		t.Errorf("malformed line accepted: %+v", got)
	}
}
