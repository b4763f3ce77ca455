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

// Generate the docs with tfplugindocs from the tools module.
//go:generate go run -C tools github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name hodei

// version is set by goreleaser.
var version = "dev"

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run with support for debuggers such as delve")
	flag.Parse()
	tuneGC()
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
