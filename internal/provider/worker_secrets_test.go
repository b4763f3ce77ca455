package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// workerConfigValue is a hodei_worker configuration with the given values
// and every other attribute and block null.
func workerConfigValue(t *testing.T, values map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	objType, ok := workerSchema(context.Background()).Type().TerraformType(context.Background()).(tftypes.Object)
	require.True(t, ok)
	attrs := map[string]tftypes.Value{}
	for name, typ := range objType.AttributeTypes {
		attrs[name] = tftypes.NewValue(typ, nil)
	}
	for name, v := range values {
		attrs[name] = v
	}
	dv, err := tfprotov6.NewDynamicValue(objType, tftypes.NewValue(objType, attrs))
	require.NoError(t, err)
	return &dv
}

// TestWriteOnlyRefusedForOldTerraform: Terraform 1.5 to 1.10 and OpenTofu
// before 1.11 do not announce write-only support in their client
// capabilities; a configuration that sets secret_env_wo then fails at
// validate with an error that names the attribute and the versions of both
// clients it needs,
// before any plan could store the value.
func TestWriteOnlyRefusedForOldTerraform(t *testing.T) {
	srv := NewServer("test")()
	config := workerConfigValue(t, map[string]tftypes.Value{
		"name":  tftypes.NewValue(tftypes.String, "w"),
		"image": tftypes.NewValue(tftypes.String, testImage),
		"secret_env_wo": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{
			"TOKEN": tftypes.NewValue(tftypes.String, "never-stored"),
		}),
	})
	check := func(caps *tfprotov6.ValidateResourceConfigClientCapabilities) []*tfprotov6.Diagnostic {
		resp, err := srv.ValidateResourceConfig(context.Background(), &tfprotov6.ValidateResourceConfigRequest{
			TypeName: "hodei_worker", Config: config, ClientCapabilities: caps,
		})
		require.NoError(t, err)
		return resp.Diagnostics
	}
	old := check(nil)
	require.Len(t, old, 1)
	assert.Equal(t, tfprotov6.DiagnosticSeverityError, old[0].Severity)
	assert.Contains(t, old[0].Detail, "secret_env_wo")
	assert.Contains(t, old[0].Detail, "Write-only attributes need Terraform 1.11 or later, or OpenTofu 1.11 or later.")
	assert.NotContains(t, old[0].Detail, "only supported in Terraform", "the framework's sentence naming Terraform alone is replaced")
	assert.False(t, strings.Contains(old[0].Detail, "never-stored"))

	assert.Empty(t, check(&tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: true}))
}
