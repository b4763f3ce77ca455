//go:build tools

// Package tools pins the tools the provider's build uses: tfplugindocs
// generates docs/ from the schema, templates/ and examples/ (make docs).
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
