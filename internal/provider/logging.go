package provider

import "os"

// Terraform keeps a provider's log lines only when TF_LOG or TF_LOG_PROVIDER
// asks for them; otherwise it reads each JSON line from the plugin's stderr
// and throws it away. The plugin SDK loggers default to TRACE, so without
// this every request of a plan costs dozens of encoded log lines: about 40 %
// of the provider's CPU in a refresh of 100 workers.
var sdkLogLevelEnv = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_HODEI"}

// quietUnrequestedLogs turns the provider's loggers off when Terraform would
// discard what they write. A level set explicitly for any of them is kept.
func quietUnrequestedLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range sdkLogLevelEnv {
		if _, set := os.LookupEnv(name); !set {
			_ = os.Setenv(name, "OFF")
		}
	}
}
