// Command terraform-provider-hodei serves the Hodei provider to Terraform.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/provider"
)

// Generate the docs as make docs does: it gives tfplugindocs a terraform,
// which without one on PATH it would try to download.
//go:generate make docs

// version is set by goreleaser.
var version = "dev"

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run with support for debuggers such as delve")
	flag.Parse()
	tuneGC()
	quietUnrequestedLogs()
	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	if err := tf6server.Serve("registry.terraform.io/hodei-jobs/hodei", provider.NewServer(version), opts...); err != nil {
		log.Fatal(err)
	}
}

// tuneGC collects less often than Go's default unless GOGC says otherwise.
// A provider process serves one Terraform command and keeps little between
// requests (about 8 MB live), while each request allocates several MB: the
// framework converts the whole worker value, nested blocks and all, many
// times a request. At GOGC=100 the collector took about a quarter of the
// provider's CPU in a plan; at 150 the heap may grow to 2.5 times the live
// data instead of twice. A no-change plan of 300 workers then took 3.0–3.6 s
// of provider CPU instead of 4.0–4.2 s, and peaked at 69–71 MiB instead of
// 64 MiB. No memory limit: a soft limit under the live heap of a run at high
// parallelism would make the collector run without pause.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(150)
	}
}

// Terraform keeps a provider's log lines only when TF_LOG or TF_LOG_PROVIDER
// asks for them; otherwise it reads each JSON line from the plugin's stderr
// and throws it away. The plugin SDK loggers default to TRACE, so without
// this every request of a plan costs dozens of encoded log lines: about 40 %
// of the provider's CPU in a refresh of 100 workers. tf6server reads these
// levels from the environment for every request and has no option to set
// them, so the process sets its own environment here, where it owns it.
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
