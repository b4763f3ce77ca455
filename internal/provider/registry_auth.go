package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
)

// registryAuthBlock is the docker block's registry_auth: credentials that
// Docker pulls send, per registry, ahead of the Docker config file's.
func registryAuthBlock() schema.Block {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	return schema.ListNestedBlock{
		MarkdownDescription: "Credentials for pulling images from a private registry on the docker backend; one block per registry. " +
			"An image's registry is matched as the Docker CLI matches it: by `host[:port]`, with `docker.io`, `index.docker.io` and " +
			"`https://index.docker.io/v1/` all naming Docker Hub. A registry without a block gets the credentials of the Docker config file, " +
			"as `docker pull` does: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, with the credential helpers it names " +
			"(`credsStore`, `credHelpers`). On Kubernetes the kubelet pulls: use the worker's `image_pull_secrets` there.",
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"address": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "The registry: `host[:port]` as image names write it (e.g. `registry.example.com:5000`), or a URL such as `https://registry.example.com`.",
					Validators: []validator.String{
						stringvalidator.LengthAtLeast(1),
						stringvalidator.AtLeastOneOf(sibling("username"), sibling("config_file")),
					},
				},
				"username": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "User name; with `password`.",
					Validators: []validator.String{
						stringvalidator.AlsoRequires(sibling("password")),
						stringvalidator.ConflictsWith(sibling("config_file")),
					},
				},
				"password": schema.StringAttribute{
					Optional:            true,
					Sensitive:           true,
					MarkdownDescription: "Password or access token; with `username`. It is sent to the Docker daemon with each pull from this registry and never logged.",
					Validators:          []validator.String{stringvalidator.AlsoRequires(sibling("username"))},
				},
				"config_file": schema.StringAttribute{
					Optional: true,
					MarkdownDescription: "A Docker config file (`config.json`, as `docker login` writes it) to read this registry's credentials from, " +
						"through the credential helpers it names; instead of `username` and `password`.",
				},
			},
		},
	}
}

func registryAuths(ctx context.Context, blocks types.List, diags *diag.Diagnostics) []docker.RegistryAuth {
	var out []docker.RegistryAuth
	for _, b := range listAs[registryAuthModel](ctx, blocks, diags) {
		out = append(out, docker.RegistryAuth{
			Address:    str(b.Address),
			Username:   str(b.Username),
			Password:   str(b.Password),
			ConfigFile: expandHome(str(b.ConfigFile)),
		})
	}
	return out
}
