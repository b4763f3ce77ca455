package main

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGC(t *testing.T) {
	for gogc, percent := range map[string]int{"": 150, "100": 100} {
		t.Run("GOGC="+gogc, func(t *testing.T) {
			t.Setenv("GOGC", gogc)
			if gogc == "" {
				_ = os.Unsetenv("GOGC")
			}
			// From Go's default, and back to it after.
			debug.SetGCPercent(100)
			t.Cleanup(func() { debug.SetGCPercent(100) })
			tuneGC()
			assert.Equal(t, percent, debug.SetGCPercent(100))
		})
	}
}

func TestQuietUnrequestedLogs(t *testing.T) {
	for _, name := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkLogLevelEnv...) {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}
	t.Setenv("TF_LOG_SDK_PROTO", "DEBUG")
	quietUnrequestedLogs()
	for _, name := range sdkLogLevelEnv {
		want := "OFF"
		if name == "TF_LOG_SDK_PROTO" {
			want = "DEBUG"
		}
		assert.Equal(t, want, os.Getenv(name), name)
	}
}

func TestQuietUnrequestedLogsKeepsRequestedLogs(t *testing.T) {
	for _, name := range sdkLogLevelEnv {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}
	t.Setenv("TF_LOG", "trace")
	quietUnrequestedLogs()
	for _, name := range sdkLogLevelEnv {
		_, set := os.LookupEnv(name)
		assert.False(t, set, "%s is set though TF_LOG asks for logs", name)
	}
}
