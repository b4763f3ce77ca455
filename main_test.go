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
