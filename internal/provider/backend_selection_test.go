package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Backend selection: attribute, else the hodei.io/provider label, else the
// provider default (itself from HODEI_DEFAULT_BACKEND), else docker. Plans
// only: nothing is created.
func TestAccWorker_backendSelection(t *testing.T) {
	dockerTestClient(t)
	t.Setenv(EnvDefaultBackend, "kubernetes")
	expectBackend := func(backend, id string) resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
			plancheck.ExpectKnownValue("hodei_worker.test", tfjsonpath.New("backend"), knownvalue.StringExact(backend)),
			plancheck.ExpectKnownValue("hodei_worker.test", tfjsonpath.New("id"), knownvalue.StringExact(id)),
		}}
	}
	worker := func(provider, extra string) string {
		return provider + `
resource "hodei_worker" "test" {
  name  = "selected"
  image = "busybox"
  ` + extra + `
}
`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: worker(`provider "hodei" {}`, ""), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: expectBackend("kubernetes", "kubernetes/default/selected"),
			},
			{
				Config: worker(`provider "hodei" {
  default_backend = "docker"
  kubernetes { namespace = "ml" }
}`, ""), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: expectBackend("docker", "docker/selected"),
			},
			{
				Config: worker(`provider "hodei" {
  default_backend = "docker"
  kubernetes { namespace = "ml" }
}`, `labels = { "hodei.io/provider" = "kubernetes" }`), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: expectBackend("kubernetes", "kubernetes/ml/selected"),
			},
			{
				Config: worker(`provider "hodei" {}`, `backend = "docker"`), PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: expectBackend("docker", "docker/selected"),
			},
		},
	})
}
