package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
)

var _ provider.ProviderWithValidateConfig = &hodeiProvider{}

// dockerAttributes is the docker block's schema. The rules that need only
// the configuration (pairs, conflicts, PEM that parses, the host's scheme)
// run at `terraform validate`; each skips a value not known yet.
func dockerAttributes() map[string]schema.Attribute {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	return map[string]schema.Attribute{
		"host": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Daemon address: `unix:///path/docker.sock`, `tcp://host:port` or `ssh://[user@]host[:port]` (`npipe://` on Windows). " +
				"Else `DOCKER_HOST`, else the Docker context's host, else the default socket.",
			Validators: []validator.String{checked{"Docker host address", docker.CheckHost}},
		},
		"cert_path": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Folder with `ca.pem`, `cert.pem` and `key.pem` for TLS; the daemon's certificate is verified against `ca.pem`. " +
				"Else `DOCKER_CERT_PATH`. Conflicts with the `*_material` attributes.",
			Validators: []validator.String{stringvalidator.ConflictsWith(sibling("ca_material"), sibling("cert_material"), sibling("key_material"))},
		},
		"ca_material": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "PEM contents of the CA certificates that verify the daemon's certificate, e.g. `file(\"ca.pem\")` or a secret store's output. " +
				"Without it, the system's roots verify the daemon.",
			Validators: []validator.String{checked{"PEM certificate", docker.CheckCertificates}},
		},
		"cert_material": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "PEM contents of the client certificate the daemon verifies (`dockerd --tlsverify`). Requires `key_material`.",
			Validators: []validator.String{
				checked{"PEM certificate", docker.CheckCertificates},
				stringvalidator.AlsoRequires(sibling("key_material")),
			},
		},
		"key_material": schema.StringAttribute{
			Optional:  true,
			Sensitive: true,
			MarkdownDescription: "PEM contents of the client certificate's private key (unencrypted). Requires `cert_material`. " +
				"Sensitive: it stays out of plan output and logs.",
			Validators: []validator.String{
				checked{"PEM private key", docker.CheckPrivateKey},
				stringvalidator.AlsoRequires(sibling("cert_material")),
			},
		},
		"ssh_opts": schema.ListAttribute{
			ElementType: types.StringType,
			Optional:    true,
			MarkdownDescription: "Extra options of the `ssh` command that reaches an `ssh://` host, e.g. " +
				"`[\"-o\", \"StrictHostKeyChecking=yes\", \"-i\", \"~/.ssh/deploy\"]`. Ignored for other hosts.",
		},
	}
}

// checked is a string validator from a check function of a backend.
type checked struct {
	what  string
	check func(string) error
}

func (c checked) Description(context.Context) string { return "must be a valid " + c.what }

func (c checked) MarkdownDescription(ctx context.Context) string { return c.Description(ctx) }

func (c checked) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	// An empty string is unset, as everywhere in the provider's settings.
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.ConfigValue.ValueString() == "" {
		return
	}
	if err := c.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+c.what, fmt.Sprintf("%s: %s.", req.Path, err))
	}
}

// validateDocker checks what no one attribute of the docker block decides:
// that the client key belongs to the client certificate.
func validateDocker(ctx context.Context, block types.Object, resp *provider.ValidateConfigResponse) {
	d := objectAs[dockerModel](ctx, block, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || d == nil {
		return
	}
	cert, key := str(d.CertMaterial), str(d.KeyMaterial)
	if cert == "" || key == "" || docker.CheckCertificates(cert) != nil || docker.CheckPrivateKey(key) != nil {
		return // absent, not known yet, or reported by the attribute's own validator
	}
	if err := docker.CheckKeyPair(cert, key); err != nil {
		keyPath := path.Root("docker").AtName("key_material")
		resp.Diagnostics.AddAttributeError(keyPath, "Client key does not match", fmt.Sprintf("%s: %s in docker.cert_material.", keyPath, err))
	}
}
