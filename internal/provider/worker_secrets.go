package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Secret and ConfigMap references (env_from, secret_env, config_env, the
// secret and config_map volume sources) and write-only environment
// (secret_env_wo): their schema, model, expansion and flattening.

const kubernetesOnlyDoc = "Kubernetes only: on a Docker worker it is an error at plan, since a Docker engine has no Secrets or ConfigMaps (use `env` or `secret_env_wo` there)."

func optionalRefAttribute(what string) schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional: true, Computed: true, Default: booldefault.StaticBool(false),
		MarkdownDescription: "When true, the pod starts even if the " + what + " is missing. Default false.",
	}
}

func secretEnvWOAttribute() schema.MapAttribute {
	return schema.MapAttribute{
		ElementType: types.StringType,
		Optional:    true,
		Sensitive:   true,
		WriteOnly:   true,
		MarkdownDescription: "Write-only environment variables (Terraform 1.11 or later, or OpenTofu 1.11 or later; older versions fail at validate): their values are sent at create and are never stored in " +
			"state, plan, logs or any label or annotation of the worker. Give them from an ephemeral variable or resource: a literal in the configuration is part of " +
			"the configuration, which a saved plan file contains. On Kubernetes they live in a Secret that the provider owns, " +
			"`<name>-hodei-env` in the worker's namespace, labelled as the worker's, read by the pod through `envFrom` and owned by the pod " +
			"(the garbage collector removes it with the pod; destroy deletes it too), so the provider's credentials must allow creating, patching and deleting Secrets. " +
			"On Docker they are container environment, which `docker inspect` shows to whoever may use the engine. Terraform cannot see these values change: change " +
			"`secret_env_wo_version` to deliver new ones. Names follow `env`'s rules and must differ from every other variable the worker sets.",
	}
}

func secretEnvWOVersionAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: "Any number, kept in state and in the worker's canonical spec: change it to deliver new `secret_env_wo` values. The environment of a running " +
			"container or pod cannot change, so " + replacedNote,
		PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
	}
}

func envFromBlock() schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "Every key of a Secret or ConfigMap becomes an environment variable: the container's `envFrom`. " + kubernetesOnlyDoc + " " + replacedNote,
		PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"secret_ref":     schema.StringAttribute{Optional: true, MarkdownDescription: "Name of a Secret. Give exactly one of `secret_ref` and `config_map_ref`."},
			"config_map_ref": schema.StringAttribute{Optional: true, MarkdownDescription: "Name of a ConfigMap. Give exactly one of `secret_ref` and `config_map_ref`."},
			"prefix":         schema.StringAttribute{Optional: true, MarkdownDescription: "Put before every key's name; itself a valid variable name.", Validators: nonEmpty()},
			"optional":       optionalRefAttribute("Secret or ConfigMap"),
		}},
	}
}

// keyEnvBlock is secret_env or config_env: source names the attribute that
// names the object.
func keyEnvBlock(source, what, field string) schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "An environment variable whose value is one key of a " + what + ": " + field + ". " + kubernetesOnlyDoc + " " + replacedNote,
		PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"name":     schema.StringAttribute{Required: true, MarkdownDescription: "The environment variable; `env`'s name rules apply."},
			source:     schema.StringAttribute{Required: true, MarkdownDescription: "Name of the " + what + " in the worker's namespace (DNS-1123 subdomain)."},
			"key":      schema.StringAttribute{Required: true, MarkdownDescription: "The key of the " + what + " whose value the variable gets."},
			"optional": optionalRefAttribute(what + " or its key"),
		}},
	}
}

// keysVolumeBlock is the secret or config_map source of a volume.
func keysVolumeBlock(what string) schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "The keys of a " + what + " as files. " + kubernetesOnlyDoc,
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Name of the " + what + " in the worker's namespace. Required in the block."},
			"default_mode": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Mode of the files, in octal as a string (`\"0440\"`), 0 to 0777; default Kubernetes's, `0644`.",
				Validators:          nonEmpty(),
			},
		},
		Blocks: map[string]schema.Block{
			"items": schema.ListNestedBlock{
				MarkdownDescription: "Mount only these keys, each at its path; without items every key becomes a file named as the key.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"key":  schema.StringAttribute{Required: true, MarkdownDescription: "The key."},
					"path": schema.StringAttribute{Required: true, MarkdownDescription: "Relative path of its file in the volume, without `..`."},
				}},
			},
		},
	}
}

type envFromModel struct {
	SecretRef    types.String `tfsdk:"secret_ref"`
	ConfigMapRef types.String `tfsdk:"config_map_ref"`
	Prefix       types.String `tfsdk:"prefix"`
	Optional     types.Bool   `tfsdk:"optional"`
}

type secretEnvModel struct {
	Name     types.String `tfsdk:"name"`
	Secret   types.String `tfsdk:"secret"`
	Key      types.String `tfsdk:"key"`
	Optional types.Bool   `tfsdk:"optional"`
}

type configEnvModel struct {
	Name      types.String `tfsdk:"name"`
	ConfigMap types.String `tfsdk:"config_map"`
	Key       types.String `tfsdk:"key"`
	Optional  types.Bool   `tfsdk:"optional"`
}

type keysVolumeModel struct {
	Name        types.String `tfsdk:"name"`
	DefaultMode types.String `tfsdk:"default_mode"`
	Items       types.List   `tfsdk:"items"`
}

type keyPathModel struct {
	Key  types.String `tfsdk:"key"`
	Path types.String `tfsdk:"path"`
}

type secretsBlockTypes struct {
	envFrom, secretEnv, configEnv, keysVolume, keyPath types.ObjectType
}

var secretsTypes = sync.OnceValue(func() secretsBlockTypes {
	s := workerSchema(context.Background())
	at := func(p path.Path) types.ObjectType {
		t, diags := s.TypeAtPath(context.Background(), p)
		obj, ok := t.(types.ObjectType)
		if diags.HasError() || !ok {
			panic(fmt.Sprintf("schema has no block at %s: %v", p, diags))
		}
		return obj
	}
	secret := path.Root("volume").AtListIndex(0).AtName("secret")
	return secretsBlockTypes{
		envFrom:    at(path.Root("env_from").AtListIndex(0)),
		secretEnv:  at(path.Root("secret_env").AtListIndex(0)),
		configEnv:  at(path.Root("config_env").AtListIndex(0)),
		keysVolume: at(secret),
		keyPath:    at(secret.AtName("items").AtListIndex(0)),
	}
})

// expandSecrets sets the spec's references; secret_env_wo is read from the
// configuration by Create only, since plan and state never hold it.
func expandSecrets(ctx context.Context, m *workerModel, s *worker.Spec, diags *diag.Diagnostics) {
	for _, e := range listAs[envFromModel](ctx, m.EnvFrom, diags) {
		s.EnvFrom = append(s.EnvFrom, worker.EnvFrom{SecretRef: str(e.SecretRef), ConfigMapRef: str(e.ConfigMapRef), Prefix: str(e.Prefix), Optional: e.Optional.ValueBool()})
	}
	for _, e := range listAs[secretEnvModel](ctx, m.SecretEnv, diags) {
		s.SecretEnv = append(s.SecretEnv, worker.KeyEnv{Name: str(e.Name), Source: str(e.Secret), Key: str(e.Key), Optional: e.Optional.ValueBool()})
	}
	for _, e := range listAs[configEnvModel](ctx, m.ConfigEnv, diags) {
		s.ConfigEnv = append(s.ConfigEnv, worker.KeyEnv{Name: str(e.Name), Source: str(e.ConfigMap), Key: str(e.Key), Optional: e.Optional.ValueBool()})
	}
	s.SecretEnvWO = strMap(m.SecretEnvWO)
	s.SecretEnvWOVersion = int64Ptr(m.SecretEnvWOVersion)
}

func expandKeysVolume(ctx context.Context, v types.Object, diags *diag.Diagnostics) *worker.KeysSource {
	k := objectAs[keysVolumeModel](ctx, v, diags)
	if k == nil {
		return nil
	}
	out := &worker.KeysSource{Name: str(k.Name), DefaultMode: str(k.DefaultMode)}
	for _, item := range listAs[keyPathModel](ctx, k.Items, diags) {
		out.Items = append(out.Items, worker.KeyPath{Key: str(item.Key), Path: str(item.Path)})
	}
	return out
}

func flattenSecrets(s *worker.Spec, m *workerModel, diags *diag.Diagnostics) {
	bt := secretsTypes()
	envFrom := make([]envFromModel, 0, len(s.EnvFrom))
	for _, e := range s.EnvFrom {
		envFrom = append(envFrom, envFromModel{SecretRef: optString(e.SecretRef), ConfigMapRef: optString(e.ConfigMapRef), Prefix: optString(e.Prefix), Optional: types.BoolValue(e.Optional)})
	}
	m.EnvFrom = listOf(bt.envFrom, envFrom, diags)
	secretEnv := make([]secretEnvModel, 0, len(s.SecretEnv))
	for _, e := range s.SecretEnv {
		secretEnv = append(secretEnv, secretEnvModel{Name: types.StringValue(e.Name), Secret: types.StringValue(e.Source), Key: types.StringValue(e.Key), Optional: types.BoolValue(e.Optional)})
	}
	m.SecretEnv = listOf(bt.secretEnv, secretEnv, diags)
	configEnv := make([]configEnvModel, 0, len(s.ConfigEnv))
	for _, e := range s.ConfigEnv {
		configEnv = append(configEnv, configEnvModel{Name: types.StringValue(e.Name), ConfigMap: types.StringValue(e.Source), Key: types.StringValue(e.Key), Optional: types.BoolValue(e.Optional)})
	}
	m.ConfigEnv = listOf(bt.configEnv, configEnv, diags)
	m.SecretEnvWO = types.MapNull(types.StringType)
	m.SecretEnvWOVersion = optInt64(s.SecretEnvWOVersion)
}

func flattenKeysVolume(k *worker.KeysSource, diags *diag.Diagnostics) types.Object {
	bt := secretsTypes()
	if k == nil {
		return objectOf[keysVolumeModel](bt.keysVolume, nil, diags)
	}
	items := make([]keyPathModel, 0, len(k.Items))
	for _, item := range k.Items {
		items = append(items, keyPathModel{Key: types.StringValue(item.Key), Path: types.StringValue(item.Path)})
	}
	return objectOf(bt.keysVolume, &keysVolumeModel{Name: types.StringValue(k.Name), DefaultMode: optString(k.DefaultMode), Items: listOf(bt.keyPath, items, diags)}, diags)
}
