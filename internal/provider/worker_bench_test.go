package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// The hot path of one worker, as Terraform drives it, through the same
// protocol server the provider binary serves (NewServer), with no engine:
// a plan (ValidateResourceConfig, PlanResourceChange) of a Kubernetes worker
// with every block set, and the conversions of an apply and a refresh
// (expandSpec, flattenSpec, the model's Get and Set). `make bench` measures
// the provider CPU of the whole run; these show a regression in review:
//
//	go test ./internal/provider -run '^$' -bench Worker -benchmem

// everyBlock is a worker configuration with every attribute and block set.
const everyBlock = `{
  "name": "bench-0", "backend": "kubernetes", "namespace": "default",
  "image": "registry.example/bench:1.0", "image_pull_policy": "IfNotPresent", "image_pull_secrets": ["pull"],
  "command": ["sh", "-c"], "args": ["exec sleep 1d"], "env": {"A": "1", "B": "2"}, "working_dir": "/work",
  "labels": {"team": "ml", "tier": "batch"}, "annotations": {"note": "bench"},
  "restart_policy": "Always", "wait_for": "running", "recreate_on_exit": true,
  "termination_grace_period": "30s", "service_account_name": "runner", "automount_service_account_token": false,
  "runtime_class_name": "nvidia", "shm_size": "64Mi",
  "env_from": [{"secret_ref": "creds", "prefix": "C_"}],
  "secret_env": [{"name": "TOKEN", "secret": "creds", "key": "token"}],
  "config_env": [{"name": "MODE", "config_map": "settings", "key": "mode"}],
  "resources": {"cpu": "500m", "memory": "1Gi", "cpu_limit": "1", "memory_limit": "2Gi", "ephemeral_storage": "1Gi", "ephemeral_storage_limit": "2Gi"},
  "gpu": {"count": 1, "type": "t4"},
  "volume": [
    {"name": "data", "mount_path": "/data", "persistent": {"claim_name": "data"}},
    {"name": "scratch", "mount_path": "/scratch", "ephemeral": {"size_limit": "1Gi", "medium": "Memory"}},
    {"name": "keys", "mount_path": "/keys", "read_only": true, "secret": {"name": "keys", "default_mode": "0440", "items": [{"key": "a", "path": "a"}]}},
    {"name": "conf", "mount_path": "/conf", "config_map": {"name": "conf", "items": [{"key": "b", "path": "b"}]}}
  ],
  "scheduling": {
    "node_selector": {"pool": "gpu"}, "priority_class_name": "batch",
    "node_affinity": [{"required": true, "match_expression": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}],
    "pod_affinity": [{"labels": {"team": "ml"}, "topology_key": "kubernetes.io/hostname", "weight": 10}],
    "pod_anti_affinity": [{"labels": {"tier": "batch"}, "topology_key": "kubernetes.io/hostname", "required": true}],
    "toleration": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "topology_spread": [{"max_skew": 1, "topology_key": "topology.kubernetes.io/zone", "when_unsatisfiable": "ScheduleAnyway"}]
  },
  "security": {"run_as_user": 1000, "run_as_group": 1000, "run_as_non_root": true, "read_only_root_filesystem": true, "add_capabilities": ["NET_BIND_SERVICE"]},
  "readiness": {"period": "5s", "failure_threshold": 3, "initial_delay": "1s", "http_get": {"port": 8080}},
  "timeouts": {"create": "5m", "delete": "2m"}
}`

// benchServer is the provider's protocol server, configured for Kubernetes
// with no preflight (which would ask an engine).
func benchServer(b *testing.B) (tfprotov6.ProviderServer, tftypes.Type) {
	b.Helper()
	ctx := context.Background()
	srv := NewServer("bench")()
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	require.NoError(b, err)
	providerType := schemas.Provider.ValueType()
	config := dynamicJSON(b, providerType, `{"default_backend": "kubernetes", "preflight": "off"}`)
	resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: config})
	require.NoError(b, err)
	require.Empty(b, resp.Diagnostics)
	return srv, schemas.ResourceSchemas["hodei_worker"].ValueType()
}

func dynamicJSON(b *testing.B, t tftypes.Type, js string) *tfprotov6.DynamicValue {
	b.Helper()
	v, err := tftypes.ValueFromJSONWithOpts([]byte(js), t, tftypes.ValueFromJSONOpts{})
	require.NoError(b, err)
	dv, err := tfprotov6.NewDynamicValue(t, v)
	require.NoError(b, err)
	return &dv
}

func requireNoErrors(b *testing.B, diags []*tfprotov6.Diagnostic) {
	b.Helper()
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			b.Fatalf("%s: %s (%v)", d.Summary, d.Detail, d.Attribute)
		}
	}
}

// BenchmarkWorkerPlan is one worker's create plan: Terraform validates the
// configuration, then plans it.
func BenchmarkWorkerPlan(b *testing.B) {
	ctx := context.Background()
	srv, t := benchServer(b)
	config := dynamicJSON(b, t, everyBlock)
	prior := dynamicJSON(b, t, "null")
	b.ReportAllocs()
	for b.Loop() {
		v, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "hodei_worker", Config: config})
		require.NoError(b, err)
		requireNoErrors(b, v.Diagnostics)
		p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "hodei_worker", Config: config, ProposedNewState: config, PriorState: prior,
		})
		require.NoError(b, err)
		requireNoErrors(b, p.Diagnostics)
	}
}

// plannedState is the planned new state of everyBlock with the computed
// facts an apply reads filled in: the state of a worker that exists.
func plannedState(b *testing.B, srv tfprotov6.ProviderServer, t tftypes.Type) *tfprotov6.DynamicValue {
	b.Helper()
	ctx := context.Background()
	config := dynamicJSON(b, t, everyBlock)
	p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
		TypeName: "hodei_worker", Config: config, ProposedNewState: config, PriorState: dynamicJSON(b, t, "null"),
	})
	require.NoError(b, err)
	requireNoErrors(b, p.Diagnostics)
	v, err := p.PlannedState.Unmarshal(t)
	require.NoError(b, err)
	st := tfsdk.State{Schema: workerSchema(ctx), Raw: v}
	for attr, value := range map[string]string{"status": "running", "node_name": "node-0", "ip": "10.0.0.1", "uid": "uid-0", "started_at": "2026-12-02T00:00:00Z"} {
		requireNoFrameworkErrors(b, st.SetAttribute(ctx, path.Root(attr), value))
	}
	dv, err := tfprotov6.NewDynamicValue(t, st.Raw)
	require.NoError(b, err)
	return &dv
}

func requireNoFrameworkErrors(b *testing.B, diags diag.Diagnostics) {
	b.Helper()
	if diags.HasError() {
		b.Fatal(diags)
	}
}

// BenchmarkWorkerRefreshPlan is one worker's no-change plan after its
// refresh: Terraform validates the configuration, then plans it against the
// state, which is what every `terraform plan` and `terraform destroy` of
// an existing worker costs besides the Read.
func BenchmarkWorkerRefreshPlan(b *testing.B) {
	ctx := context.Background()
	srv, t := benchServer(b)
	config := dynamicJSON(b, t, everyBlock)
	state := plannedState(b, srv, t)
	b.ReportAllocs()
	for b.Loop() {
		v, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "hodei_worker", Config: config})
		require.NoError(b, err)
		requireNoErrors(b, v.Diagnostics)
		p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "hodei_worker", Config: config, ProposedNewState: state, PriorState: state,
		})
		require.NoError(b, err)
		requireNoErrors(b, p.Diagnostics)
	}
}

// BenchmarkWorkerApplyConversions is what an apply and a refresh convert
// besides the framework's request handling: the planned model to a spec
// (Create), and the spec read back to the model (Read).
func BenchmarkWorkerApplyConversions(b *testing.B) {
	ctx := context.Background()
	srv, t := benchServer(b)
	state := plannedState(b, srv, t)
	v, err := state.Unmarshal(t)
	require.NoError(b, err)
	s := workerSchema(ctx)
	catalog, err := worker.NewCatalog()
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		st := tfsdk.State{Schema: s, Raw: v}
		var m workerModel
		requireNoFrameworkErrors(b, getWorker(ctx, v, &m))
		spec, diags := expandSpec(ctx, &m)
		requireNoFrameworkErrors(b, diags)
		next := m
		requireNoFrameworkErrors(b, flattenSpec(spec, catalog, &next))
		flattenObserved(&worker.Observed{Status: worker.StatusRunning, UID: "uid-0"}, &next)
		requireNoFrameworkErrors(b, setWorker(ctx, &st.Raw, &next))
	}
}

// benchWorker is the worker `make bench` creates N of.
const benchWorker = `{
  "name": "bench-0", "image": "registry.example/bench:1.0", "command": ["sh", "-c", "sleep 1d"],
  "resources": {"cpu": "10m", "memory": "16Mi"}
}`

// BenchmarkWorkerPlanBenchWorker is BenchmarkWorkerPlan for the worker
// `make bench` creates: its provider CPU per worker is mostly this.
func BenchmarkWorkerPlanBenchWorker(b *testing.B) {
	ctx := context.Background()
	srv, t := benchServer(b)
	config := dynamicJSON(b, t, benchWorker)
	prior := dynamicJSON(b, t, "null")
	b.ReportAllocs()
	for b.Loop() {
		v, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "hodei_worker", Config: config})
		require.NoError(b, err)
		requireNoErrors(b, v.Diagnostics)
		p, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: "hodei_worker", Config: config, ProposedNewState: config, PriorState: prior,
		})
		require.NoError(b, err)
		requireNoErrors(b, p.Diagnostics)
	}
}
