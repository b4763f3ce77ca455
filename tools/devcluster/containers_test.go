package main

import (
	"testing"
	"time"
)

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"busybox":                        "",
		"busybox:crash":                  "crash",
		"registry:5000/team/app":         "",
		"registry:5000/team/app:missing": "missing",
		"app:exit0@sha256:abc":           "exit0",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestImageIDNamesTheRepository(t *testing.T) {
	for image, prefix := range map[string]string{
		"busybox:1.36":            "docker.io/library/busybox@sha256:",
		"team/app:1":              "docker.io/team/app@sha256:",
		"registry.example/app:v2": "registry.example/app@sha256:",
		"localhost:5000/app":      "localhost:5000/app@sha256:",
	} {
		if got := imageID(image); len(got) != len(prefix)+64 || got[:len(prefix)] != prefix {
			t.Errorf("imageID(%q) = %q, want %s<64 hex digits>", image, got, prefix)
		}
	}
}

func TestCrashBackOffDoublesUpToTheCap(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for restarts, delay := range want {
		if got := crashBackOff(int32(restarts)); got != delay {
			t.Errorf("crashBackOff(%d) = %s, want %s", restarts, got, delay)
		}
	}
}
