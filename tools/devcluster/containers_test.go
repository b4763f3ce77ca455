package main

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
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

func TestReadinessProbeFollowsItsDelayAndTheNotReadyTag(t *testing.T) {
	start := time.Now()
	probed := &corev1.Container{Name: "worker", ReadinessProbe: &corev1.Probe{InitialDelaySeconds: 2, PeriodSeconds: 1}}
	if ready, after, _ := probeReadiness(&corev1.Container{Name: "worker"}, behaviourNotReady, start, start); !ready || after != 0 {
		t.Errorf("without a probe: ready %v, next change in %s; want ready at once", ready, after)
	}
	if ready, after, _ := probeReadiness(probed, behaviourRun, start, start.Add(time.Second)); ready || after != time.Second {
		t.Errorf("before the initial delay: ready %v, next change in %s; want not ready, 1s", ready, after)
	}
	if ready, _, _ := probeReadiness(probed, behaviourRun, start, start.Add(2*time.Second)); !ready {
		t.Error("after the initial delay: not ready")
	}
	ready, after, events := probeReadiness(probed, behaviourNotReady, start, start.Add(3*time.Second))
	if ready || after != time.Second || len(events) != 1 || events[0].reason != "Unhealthy" {
		t.Errorf(":notready: ready %v, next in %s, events %v; want not ready, 1s, one Unhealthy", ready, after, events)
	}
}
