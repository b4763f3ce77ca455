// Command terraform-provider-hodei serves the Hodei provider to Terraform.
package main

import (
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/provider"
)

// Generate the docs with tfplugindocs from the tools module.
//go:generate go run -C tools github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-dir .. --provider-name hodei

// version is set by goreleaser.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers such as delve")
	flag.Parse()
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	if err := tf6server.Serve("registry.terraform.io/hodei-jobs/hodei", provider.NewServer(version), opts...); err != nil {
		log.Fatal(err)
	}
}
