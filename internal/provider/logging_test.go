package provider

import (
	"os"
	"testing"
)

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
		if got := os.Getenv(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
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
		if _, set := os.LookupEnv(name); set {
			t.Errorf("%s is set though TF_LOG asks for logs", name)
		}
	}
}
