package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// FuzzReadCanonical follows a canonical spec read from an object the way a
// refresh or an import does: decode, flatten into the Terraform model, set
// it as state, and expand it back. Whatever the object says, none of this
// may panic; a valid spec comes back unchanged.
func FuzzReadCanonical(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"spec":{"name":"trainer-0","backend":"kubernetes","namespace":"ml","image":"registry.example/trainer:1.4","command":["python"],"args":null,"env":{"A":"1"},"labels":{"team":"ml"},"annotations":null,"restart_policy":"Always","resources":{"cpu":"2","memory_limit":"8Gi"},"gpu":{"count":2,"type":"A100"},"volumes":[{"name":"d","mount_path":"/d","persistent":{"claim_name":"d"}},{"name":"s","mount_path":"/s","ephemeral":{"size_limit":"1Gi","medium":"Memory"}},{"name":"h","mount_path":"/h","host_path":{"path":"/srv/hodei"}}],"scheduling":{"node_selector":{"zone":"a"},"node_affinity":[{"weight":50,"match_expression":[{"key":"k","operator":"In","values":["v"]}]}],"pod_anti_affinity":[{"labels":{"app":"x"},"topology_key":"kubernetes.io/hostname","required":true,"namespaces":null}],"toleration":[{"key":"k","operator":"Exists","effect":"NoExecute","toleration_seconds":30}],"topology_spread":[{"max_skew":1,"topology_key":"zone","when_unsatisfiable":"DoNotSchedule","labels":null}]},"security":{"run_as_user":1000,"run_as_non_root":true,"add_capabilities":["NET_BIND_SERVICE"]}}}`,
		`{"v":1,"spec":{"name":"builder-0","backend":"docker","image":"busybox","command":null,"args":null,"env":null,"labels":null,"annotations":null,"restart_policy":"Always"}}`,
		`{"v":1,"spec":{"name":"x","backend":"docker","gpu":{"count":-1,"type":"nope"},"volumes":[{},{"ephemeral":{}}],"scheduling":{"node_affinity":[{}],"pod_affinity":[{}],"toleration":[{}],"topology_spread":[{}]},"security":{}}}`,
		`{"v":1,"spec":{"name":"x","backend":"nomad","scheduling":{"node_affinity":[{"weight":-5,"match_expression":[{"values":[]}]}]}}}`,
	} {
		f.Add(s)
	}
	ctx := context.Background()
	schema := workerSchema(ctx)
	catalog := worker.DefaultCatalog()
	f.Fuzz(func(t *testing.T, text string) {
		spec, err := worker.DecodeCanonical(text)
		if err != nil {
			return
		}
		var m workerModel
		if diags := flattenSpec(spec, catalog, &m); diags.HasError() {
			return
		}
		m.ID = optString(string(spec.Backend) + "/" + spec.Name)
		state := tfsdk.State{Schema: schema, Raw: tftypes.NewValue(schema.Type().TerraformType(ctx), nil)}
		_ = state.Set(ctx, &m)
		back, diags := expandSpec(ctx, &m)
		if diags.HasError() || len(worker.Validate(spec, worker.Policy{})) > 0 {
			return
		}
		if c := worker.Changes(spec, back); len(c) != 0 {
			t.Fatalf("a valid spec changed through the model: %v\n%s", c, text)
		}
	})
}
