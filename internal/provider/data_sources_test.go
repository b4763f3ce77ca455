package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccGPUTypesDataSource(t *testing.T) {
	dockerTestClient(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
provider "hodei" {
  gpu_type {
    name       = "H200"
    vendor     = "nvidia"
    node_label = "nvidia-h200"
  }
  gpu_type {
    name       = "t4"
    vendor     = "nvidia"
    node_label = "custom-t4"
  }
}
data "hodei_gpu_types" "all" {}
`,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("data.hodei_gpu_types.all", "types.#", "8"),
				resource.TestCheckTypeSetElemNestedAttrs("data.hodei_gpu_types.all", "types.*", map[string]string{
					"name": "h200", "vendor": "nvidia", "resource_name": "nvidia.com/gpu", "node_label": "nvidia-h200",
				}),
				resource.TestCheckTypeSetElemNestedAttrs("data.hodei_gpu_types.all", "types.*", map[string]string{
					"name": "t4", "node_label": "custom-t4",
				}),
				resource.TestCheckTypeSetElemNestedAttrs("data.hodei_gpu_types.all", "types.*", map[string]string{
					"name": "mi200", "vendor": "amd", "resource_name": "amd.com/gpu", "node_label": "amd-instinct-mi200",
				}),
			),
		}},
	})
}

func TestAccWorkerDataSourceDocker(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("ds")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: simpleWorker(name, `labels = { team = "ml" }`) + `
data "hodei_worker" "read" {
  id = hodei_worker.test.id
}
`,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("data.hodei_worker.read", "status", "Running"),
					resource.TestCheckResourceAttr("data.hodei_worker.read", "labels.team", "ml"),
					resource.TestCheckResourceAttr("data.hodei_worker.read", "labels.%", "1"),
					resource.TestCheckResourceAttrPair("data.hodei_worker.read", "ip", "hodei_worker.test", "ip"),
					resource.TestCheckResourceAttrPair("data.hodei_worker.read", "node_name", "hodei_worker.test", "node_name"),
					resource.TestCheckResourceAttrWith("data.hodei_worker.read", "ip", func(ip string) error {
						if want := inspect(t, cli, name).NetworkSettings.Networks["bridge"].IPAddress; ip != want {
							return fmt.Errorf("data source ip %q, docker inspect says %q", ip, want)
						}
						return nil
					}),
				),
			},
			{
				Config:      fmt.Sprintf(`data "hodei_worker" "read" { id = "docker/%s-gone" }`, name),
				ExpectError: regexp.MustCompile(`Worker not found`),
			},
		},
	})
}

// Configure reports provider data of the wrong type, as the resource does,
// and accepts none (the provider not configured yet) without a diagnostic.
func TestConfigureRejectsUnexpectedProviderData(t *testing.T) {
	configure := map[string]func(any) diag.Diagnostics{
		"hodei_worker data source": func(v any) diag.Diagnostics {
			var resp datasource.ConfigureResponse
			(&workerDataSource{}).Configure(context.Background(), datasource.ConfigureRequest{ProviderData: v}, &resp)
			return resp.Diagnostics
		},
		"hodei_gpu_types data source": func(v any) diag.Diagnostics {
			var resp datasource.ConfigureResponse
			(&gpuTypesDataSource{}).Configure(context.Background(), datasource.ConfigureRequest{ProviderData: v}, &resp)
			return resp.Diagnostics
		},
		"hodei_worker resource": func(v any) diag.Diagnostics {
			var resp fwresource.ConfigureResponse
			(&workerResource{}).Configure(context.Background(), fwresource.ConfigureRequest{ProviderData: v}, &resp)
			return resp.Diagnostics
		},
	}
	for name, configure := range configure {
		t.Run(name, func(t *testing.T) {
			diags := configure("not provider data")
			if len(diags) != 1 || diags[0].Summary() != "Unexpected provider data" || !strings.Contains(diags[0].Detail(), "string") {
				t.Errorf("wrong type: got %v, want one error \"Unexpected provider data\" naming string", diags)
			}
			if diags := configure(nil); diags.HasError() {
				t.Errorf("no provider data yet: got %v, want none", diags)
			}
			if diags := configure(&providerData{}); diags.HasError() {
				t.Errorf("provider data: got %v, want none", diags)
			}
		})
	}
}
