package provider

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// sdkLogLevelEnv are the level variables of the SDK's and the provider's
// loggers, which main.go turns off when Terraform would discard their lines.
var sdkLogLevelEnv = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_HODEI"}

// The provider is a library: making it and its server leaves the process
// environment as it was, with no TF_LOG set too. The program's main decides
// its own process's log levels.
func TestNewLeavesTheEnvironmentAlone(t *testing.T) {
	for _, name := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkLogLevelEnv...) {
		t.Setenv(name, "")
		_ = os.Unsetenv(name)
	}
	before := os.Environ()
	New("test")()
	NewServer("test")()
	assert.ElementsMatch(t, before, os.Environ())
}
