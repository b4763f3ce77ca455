package provider

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

func oneOf(values []string) []validator.String {
	return []validator.String{stringvalidator.OneOf(values...)}
}

func enumDoc(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("`%q`", v)
	}
	return "One of " + strings.Join(quoted, ", ") + "."
}

// replacesDoc describes the blocks whose every change replaces the worker,
// replacedNote the attributes whose every change does: the docs say what
// their plan modifiers do, which tfplugindocs does not show.
const (
	replacesDoc  = "Any change in meaning replaces the worker; a respelled quantity or GPU type is no change."
	replacedNote = "Changing it replaces the worker."

	labelsChangeDoc      = "A change applies in place on Kubernetes, unless a `topology_spread` without `labels` counts the worker's own labels; it replaces the worker on Docker."
	annotationsChangeDoc = "A change applies in place on Kubernetes and replaces the worker on Docker."
	resourcesChangeDoc   = "A change replaces the worker on Kubernetes; on Docker it applies in place, unless a request or limit is removed or the ephemeral storage changes, which replaces. A respelled quantity is no change."
)

func nonEmpty() []validator.String {
	return []validator.String{stringvalidator.LengthAtLeast(1)}
}

func workerSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "An execution worker of the Hodei job platform, made real as a Kubernetes pod or a Docker container. " +
			"Changes to `labels` and `annotations` apply in place on Kubernetes; changes to `resources` apply in place on Docker; " +
			"`wait_for`, `recreate_on_exit` and `timeouts` are kept in state only; every other change replaces the worker.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`kubernetes/<namespace>/<name>` or `docker/<name>`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				MarkdownDescription: "Name of the pod or container: a DNS-1123 label (lower case letters, digits and `-`, at most 63 characters). " + replacedNote,
			},
			"backend": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Where the worker runs. " + enumDoc(worker.Backends) + " When unset: the label `hodei.io/provider`, " +
					"else the provider's `default_backend`, else `\"docker\"`. An attribute and a label that disagree are an error. Changing it replaces the worker.",
				Validators:    oneOf(worker.Backends),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"namespace": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Kubernetes namespace; defaults to the provider's `kubernetes.namespace`, else `\"default\"`. Ignored, with a warning, on Docker. Changing it replaces the worker.",
				Validators:          nonEmpty(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"image": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Container image reference. On Docker a local image is used, else it is pulled. " + replacedNote,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"image_pull_policy": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: enumDoc(worker.PullPolicies) + " When the image is pulled. On Kubernetes the container's `imagePullPolicy`; " +
					"unset means Kubernetes's default (`\"Always\"` for a `:latest` or untagged image, else `\"IfNotPresent\"`). " +
					"On Docker: `\"Always\"` pulls before every create; `\"IfNotPresent\"` (the default when unset) uses a local image, else pulls; " +
					"`\"Never\"` uses the local image only, and a missing one is an error naming it. Docker pulls with the provider's " +
					"`docker.registry_auth` credentials, else those of the Docker config file. " + replacedNote,
				Validators:    oneOf(worker.PullPolicies),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"image_pull_secrets": schema.ListAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Names of Secrets (of type `kubernetes.io/dockerconfigjson`) in the worker's namespace that the kubelet pulls the image with: " +
					"the pod's `imagePullSecrets`. Ignored, with a warning, on Docker, which pulls with the provider's `docker.registry_auth` " +
					"and the Docker config file. " + replacedNote,
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()},
			},
			"command": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Replaces the image's ENTRYPOINT on both backends. " + replacedNote,
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
			},
			"args": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Replaces the image's CMD on both backends. " + replacedNote,
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
			},
			"env": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
				MarkdownDescription: "Environment variables; keys must be valid variable names (letters, digits, `_`, `-`, `.`, not starting with a digit). " +
					"Sensitive: plan output hides the map. The values are stored in state (use `secret_env_wo` for values that must not be) but in no " +
					"label or annotation: the provider reads them back from the container's environment. " + replacedNote,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"working_dir": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Absolute working directory of the process. " + replacedNote,
				Validators:          nonEmpty(),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"labels": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Labels of the pod or container (Kubernetes label syntax on both backends). " + labelsChangeDoc +
					" The provider's own labels are added and never shown; labels that others add to the pod are left alone and never shown.",
				PlanModifiers: []planmodifier.Map{mapReplacedPerContract("labels", labelsChangeDoc)},
			},
			"annotations": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				MarkdownDescription: "Annotations of the pod. On Docker, which has none, they are kept in the worker's canonical-spec label. " +
					annotationsChangeDoc + " Annotations that others add to the pod are left alone and never shown.",
				PlanModifiers: []planmodifier.Map{mapReplacedPerContract("annotations", annotationsChangeDoc)},
			},
			"restart_policy": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(worker.DefaultRestart),
				MarkdownDescription: enumDoc(worker.RestartPolicies) + " Default `\"Always\"`. On Docker: `unless-stopped`, `on-failure`, `no` " +
					"(`unless-stopped` so that a container stopped by hand stays stopped and is planned for replacement). " + replacedNote,
				Validators:    oneOf(worker.RestartPolicies),
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"wait_for": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(string(worker.DefaultWaitFor)),
				MarkdownDescription: "What create waits for: `\"running\"` (the container runs: on Docker it stays up through a startup window of at most 1 s; " +
					"on Kubernetes a container the kubelet has just started is watched 2 s more, as a kubelet reports a fast exit that late), `\"scheduled\"` " +
					"(the pod is bound to a node; on Docker, the container started), `\"none\"`, or `\"ready\"`: the `readiness` probe passes " +
					"(the pod's `Ready` condition; Docker's health status `healthy`), which needs a `readiness` block. A worker not ready within " +
					"`timeouts.create`, or unhealthy on Docker, fails the create with the probe's last message and is removed. With a `readiness` " +
					"block, `\"running\"` waits for the running container only, not for the probe. State only.",
				Validators: oneOf(worker.WaitForValues),
			},
			"recreate_on_exit": schema.BoolAttribute{
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
				MarkdownDescription: "When true (default), a worker found Succeeded or Failed on refresh is planned for replacement. State only.",
			},
			"status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`Pending`, `Running`, `Succeeded`, `Failed` or `Unknown` on both backends.",
			},
			"node_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The node the pod was bound to, or the Docker engine's host name.",
			},
			"ip": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The pod IP or the container's bridge IP.",
			},
			"uid": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The pod UID or the container ID: it changes exactly when the worker is replaced. Update and delete act only on the object with this identity.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"secret_env_wo":         secretEnvWOAttribute(),
			"secret_env_wo_version": secretEnvWOVersionAttribute(),
			"termination_grace_period": schema.StringAttribute{
				Optional:   true,
				CustomType: durationType,
				MarkdownDescription: "How long the process has between SIGTERM and SIGKILL when the worker stops: a duration in whole seconds " +
					"(`\"30s\"`, `\"2m\"`; `\"1m\"` = `\"60s\"`), 0..1h. Unset: 30 s on Kubernetes, 10 s on Docker. The pod's " +
					"`terminationGracePeriodSeconds`; on Docker the container's `StopTimeout` (so a `docker stop` by hand uses it too) and the stop " +
					"timeout of delete. Delete stops within `timeouts.delete` (default `2m`): on Docker the stop gets at most half of the time left, " +
					"so that the removal still fits; on Kubernetes delete waits for the pod to be gone. A grace period above half of `timeouts.delete` " +
					"is a warning at `terraform validate`. " +
					replacedNote,
				PlanModifiers: []planmodifier.String{keepEquivalentPrior{kindDuration}, stringplanmodifier.RequiresReplace()},
			},
			"started_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the worker started (RFC 3339).",
			},
			"service_account_name":            serviceAccountNameAttribute(),
			"automount_service_account_token": automountServiceAccountTokenAttribute(),
			"runtime_class_name":              runtimeClassNameAttribute(),
			"shm_size":                        shmSizeAttribute(),
		},
		Blocks: map[string]schema.Block{
			"env_from":   envFromBlock(),
			"secret_env": keyEnvBlock("secret", "Secret", "`valueFrom.secretKeyRef`"),
			"config_env": keyEnvBlock("config_map", "ConfigMap", "`valueFrom.configMapKeyRef`"),
			"resources":  resourcesBlock(),
			"gpu":        gpuBlock(),
			"volume":     volumeBlock(),
			"scheduling": schedulingBlock(),
			"security":   securityBlock(),
			"readiness":  readinessBlock(),
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true, Delete: true,
				CreateDescription: "How long create may wait (default `5m`); a pod still unschedulable then fails with the scheduler's message and its last warning events.",
				UpdateDescription: "How long an in-place update may take (default `5m`).",
				DeleteDescription: "How long delete may take, graceful stop included (default `2m`).",
			}),
		},
	}
}

func quantityAttribute(doc, example string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		CustomType:          quantityType,
		PlanModifiers:       []planmodifier.String{keepEquivalentPrior{kindQuantity}},
		MarkdownDescription: doc + " A Kubernetes quantity, compared by value (" + example + ").",
	}
}

const (
	cpuExample    = "`\"0.5\"` = `\"500m\"`"
	memoryExample = "`\"1Gi\"` = `\"1024Mi\"`"
)

func resourcesBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "CPU and memory: cpu → CPU shares, cpu_limit → NanoCPUs, memory → memory reservation, " +
			"memory_limit → memory limit without swap on Docker. " + resourcesChangeDoc,
		PlanModifiers: []planmodifier.Object{objectReplacedPerContract("resources", resourcesChangeDoc)},
		Attributes: map[string]schema.Attribute{
			"cpu":          quantityAttribute("CPU request.", cpuExample),
			"memory":       quantityAttribute("Memory request.", memoryExample),
			"cpu_limit":    quantityAttribute("CPU limit.", cpuExample),
			"memory_limit": quantityAttribute("Memory limit.", memoryExample),
			"ephemeral_storage": quantityAttribute("Ephemeral (node disk) storage request: the container's `ephemeral-storage` request on Kubernetes. "+
				"Not honoured by Docker, with a warning (a container's disk size needs a storage driver with quotas).", memoryExample),
			"ephemeral_storage_limit": quantityAttribute("Ephemeral storage limit: the container's `ephemeral-storage` limit on Kubernetes, "+
				"where the kubelet evicts a pod that writes more. Not honoured by Docker, with a warning.", memoryExample),
		},
	}
}

func serviceAccountNameAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "ServiceAccount the pod runs as (a DNS-1123 subdomain); unset means the namespace's `default` account. " +
			"Ignored, with a warning, on Docker. " + replacedNote,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

func automountServiceAccountTokenAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(false),
		MarkdownDescription: "Mount the service account's API token into the pod (the `kube-api-access-*` volume). Default **false**: " +
			"unlike a plain pod, whose token is mounted unless it says otherwise, a worker gets no Kubernetes API credentials unless it asks. " +
			"`true` on Docker, which has no API token, is ignored with a warning. " + replacedNote,
		PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
	}
}

func runtimeClassNameAttribute() schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: "Container runtime of the worker (a DNS-1123 subdomain). On Kubernetes the pod's `runtimeClassName`: a RuntimeClass " +
			"object of that name must exist. On Docker the name of a runtime of the daemon (`HostConfig.Runtime`, as `docker run --runtime`), " +
			"e.g. `\"nvidia\"`; a daemon without it refuses the create and nothing is left. Unset: the `runtime_class` of the worker's " +
			"GPU type in the provider's catalog, else the default runtime. " + replacedNote,
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

func shmSizeAttribute() schema.StringAttribute {
	a := quantityAttribute("Size of `/dev/shm`. On Docker `HostConfig.ShmSize` (Docker's default is 64 MiB); on Kubernetes an emptyDir "+
		"of medium `Memory` with this size limit, named `"+worker.ShmVolumeName+"` and mounted at `"+worker.ShmMountPath+"` (its pages count "+
		"against the memory limit). No volume may then be mounted at `/dev/shm`. "+replacedNote, memoryExample)
	a.PlanModifiers = append(a.PlanModifiers, stringplanmodifier.RequiresReplace())
	return a
}

func gpuBlock() schema.Block {
	minMemory := quantityAttribute("Least memory of each GPU. With `allocation = \"dra\"` a CEL selector on the device's `memory` capacity; "+
		"with the device plugin (NVIDIA only) a required node affinity `nvidia.com/gpu.memory Gt <MiB - 1>` on GPU Feature Discovery's label. "+
		"Kubernetes only.", memoryExample)
	return schema.SingleNestedBlock{
		MarkdownDescription: "GPUs from the catalog. On Kubernetes with the device plugin (`allocation = \"device_plugin\"`, the default): requests = limits of " +
			"the vendor's resource (`nvidia.com/mig-<profile>` with `mig_profile`), a node selector `<gpu_node_label_key>=<node label>` and a toleration " +
			"`<resource> Exists NoSchedule`. With `allocation = \"dra\"`: a ResourceClaimTemplate of the worker's name that claims `count` devices of the " +
			"vendor's DeviceClass by attribute, no extended resource and no node selector (the scheduler's allocator picks the node), the same toleration. " +
			"On Docker: an NVIDIA device request, or the AMD (`/dev/kfd`, `/dev/dri`, group `video`) and Intel (`/dev/dri`) devices; selection by attribute " +
			"and `allocation = \"dra\"` are errors there. See the guide *GPUs with DRA*. " + replacesDoc,
		PlanModifiers: []planmodifier.Object{objectReplacedPerContract("gpu", replacesDoc)},
		Attributes: map[string]schema.Attribute{
			"count": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(worker.DefaultGPUCount),
				MarkdownDescription: fmt.Sprintf("Number of GPUs (or MIG devices), 1..%d. Default 1.", worker.MaxGPUCount),
				Validators:          []validator.Int64{int64validator.Between(1, worker.MaxGPUCount)},
			},
			"type": schema.StringAttribute{
				Optional:      true,
				CustomType:    gpuTypeType,
				PlanModifiers: []planmodifier.String{keepEquivalentPrior{kindGPUType}},
				MarkdownDescription: "Catalog name in any case: `v100`, `t4`, `a100`, `h100`, `mi100`, `mi200`, `intel-xe`, " +
					"or a `gpu_type` of the provider. Required in the block. An unknown name is a plan error that suggests the nearest. " +
					"With `allocation = \"dra\"` and no `product`, a built-in NVIDIA type selects its product names (e.g. `a100`: every A100 model).",
			},
			"allocation": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "How the GPUs are allocated. " + enumDoc(worker.Allocations) + " Unset: the provider's `gpu_allocation` on Kubernetes, " +
					"`device_plugin` on Docker. A change, also of the provider's default, replaces the worker.",
				Validators: oneOf(worker.Allocations),
			},
			"min_memory": minMemory,
			"product": schema.ListAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Product names the GPU may be, as the driver publishes them (`productName`, e.g. `\"NVIDIA A100-SXM4-80GB\"`); any one will do. " +
					"With `allocation = \"dra\"` a CEL selector; with the device plugin (NVIDIA only) a required node affinity `nvidia.com/gpu.product In` " +
					"with dashes for spaces, as GPU Feature Discovery writes it. Kubernetes only.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, worker.MaxProductLength)),
				},
			},
			"mig_profile": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A MIG partition instead of whole GPUs, e.g. `\"1g.10gb\"` (NVIDIA only). With the device plugin (mixed strategy) the " +
					"extended resource `nvidia.com/mig-<profile>`; with `allocation = \"dra\"` devices of the DeviceClass `mig.nvidia.com` whose `profile` is this. Kubernetes only.",
			},
			"devices": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The devices allocated to the worker, from its ResourceClaim's `status.allocation` (DRA only; empty with the device plugin, " +
					"and until the pod is scheduled). Null when the claim was deleted or deallocated out of band: the plan then replaces the worker.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"driver": schema.StringAttribute{Computed: true, MarkdownDescription: "DRA driver, e.g. `gpu.nvidia.com`."},
					"pool":   schema.StringAttribute{Computed: true, MarkdownDescription: "Resource pool (usually the node)."},
					"device": schema.StringAttribute{Computed: true, MarkdownDescription: "Device name within the pool, e.g. `gpu-0`."},
				}},
			},
			"vendor": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`nvidia`, `amd` or `intel`, from the catalog.",
			},
			"resource_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The Kubernetes extended resource, from the catalog (e.g. `nvidia.com/gpu`).",
			},
		},
	}
}

func volumeBlock() schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: "A volume mounted into the worker. Give exactly one of `persistent`, `ephemeral`, `host_path`, `secret` or `config_map`. " + replacesDoc,
		PlanModifiers:       []planmodifier.List{listReplacedPerContract("volume", replacesDoc)},
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"name": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "Unique volume name (DNS-1123 label).",
				},
				"mount_path": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "Absolute, unique path inside the container.",
				},
				"read_only": schema.BoolAttribute{
					Optional:            true,
					Computed:            true,
					Default:             booldefault.StaticBool(false),
					MarkdownDescription: "Mount read-only. Default false.",
				},
				"sub_path": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "Relative path inside the volume to mount instead of its root.",
					Validators:          nonEmpty(),
				},
			},
			Blocks: map[string]schema.Block{
				"persistent": schema.SingleNestedBlock{
					MarkdownDescription: "A PersistentVolumeClaim on Kubernetes; a named volume on Docker (kept when the worker is destroyed).",
					Attributes: map[string]schema.Attribute{
						"claim_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Claim (or Docker volume) name. Required in the block."},
					},
				},
				"ephemeral": schema.SingleNestedBlock{
					MarkdownDescription: "Scratch space that lives and dies with the worker: an emptyDir on Kubernetes; on Docker a tmpfs " +
						"(medium `Memory`) or an anonymous volume removed with the container.",
					Attributes: map[string]schema.Attribute{
						"size_limit": quantityAttribute("Size limit. On Docker enforced only for medium `\"Memory\"`; a warning says so otherwise.", memoryExample),
						"medium": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(""),
							MarkdownDescription: "`\"\"` (node disk, default) or `\"Memory\"`.",
							Validators:          oneOf(worker.StorageMedia),
						},
					},
				},
				"secret":     keysVolumeBlock("Secret"),
				"config_map": keysVolumeBlock("ConfigMap"),
				"host_path": schema.SingleNestedBlock{
					MarkdownDescription: "A path of the host: hostPath on Kubernetes, a bind mount on Docker. Must lie under the provider's `host_path_allowlist` when one is set.",
					Attributes: map[string]schema.Attribute{
						"path": schema.StringAttribute{Optional: true, MarkdownDescription: "Absolute host path. Required in the block."},
						"type": schema.StringAttribute{
							Optional:            true,
							Computed:            true,
							Default:             stringdefault.StaticString(""),
							MarkdownDescription: "Kubernetes HostPathType. " + enumDoc(worker.HostPathTypes) + " Docker refuses a missing path except with `DirectoryOrCreate`.",
							Validators:          oneOf(worker.HostPathTypes),
						},
					},
				},
			},
		},
	}
}

func weightAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional:            true,
		MarkdownDescription: "1..100, preferred terms only; a preferred term without one weighs 1.",
		Validators:          []validator.Int64{int64validator.Between(1, 100)},
	}
}

func requiredAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional:            true,
		Computed:            true,
		Default:             booldefault.StaticBool(false),
		MarkdownDescription: "true: required during scheduling; false (default): preferred, with `weight`.",
	}
}

func podAffinityBlock(doc string) schema.Block {
	return schema.ListNestedBlock{
		MarkdownDescription: doc,
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"labels": schema.MapAttribute{
					ElementType:         types.StringType,
					Required:            true,
					MarkdownDescription: "Labels of the pods to be near (or away from).",
				},
				"topology_key": schema.StringAttribute{
					Optional:            true,
					Computed:            true,
					Default:             stringdefault.StaticString(worker.DefaultTopologyKey),
					MarkdownDescription: "Node label that defines \"near\". Default `kubernetes.io/hostname`.",
				},
				"required":   requiredAttribute(),
				"weight":     weightAttribute(),
				"namespaces": schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Namespaces of those pods; default the worker's."},
			},
		},
	}
}

func schedulingBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Where the worker may and should run; maps one to one onto the pod's nodeSelector, affinity, tolerations, " +
			"topologySpreadConstraints and priorityClassName. Docker ignores it, with a warning that names each setting. " + replacesDoc,
		PlanModifiers: []planmodifier.Object{objectReplacedPerContract("scheduling", replacesDoc)},
		Attributes: map[string]schema.Attribute{
			"node_selector": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Node labels the worker requires.",
			},
			"priority_class_name": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PriorityClass of the pod.",
				Validators:          nonEmpty(),
			},
		},
		Blocks: map[string]schema.Block{
			"node_affinity": schema.ListNestedBlock{
				MarkdownDescription: "A node selector term, required or preferred with a weight. Required terms are ORed.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"required": requiredAttribute(),
						"weight":   weightAttribute(),
					},
					Blocks: map[string]schema.Block{
						"match_expression": schema.ListNestedBlock{
							MarkdownDescription: "A requirement on a node label; all of a term's expressions must match.",
							Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
							NestedObject: schema.NestedBlockObject{
								Attributes: map[string]schema.Attribute{
									"key": schema.StringAttribute{Required: true, MarkdownDescription: "Node label key."},
									"operator": schema.StringAttribute{
										Required:            true,
										MarkdownDescription: enumDoc(worker.Operators) + " `Gt` and `Lt` take one integer value; `Exists` and `DoesNotExist` none.",
										Validators:          oneOf(worker.Operators),
									},
									"values": schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Values to compare with."},
								},
							},
						},
					},
				},
			},
			"pod_affinity":      podAffinityBlock("Run near pods with these labels."),
			"pod_anti_affinity": podAffinityBlock("Run away from pods with these labels."),
			"toleration": schema.ListNestedBlock{
				MarkdownDescription: "Lets the worker onto nodes with a matching taint.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"key": schema.StringAttribute{Optional: true, MarkdownDescription: "Taint key; empty with `Exists` matches every taint.", Validators: nonEmpty()},
						"operator": schema.StringAttribute{
							Optional: true, Computed: true, Default: stringdefault.StaticString(worker.DefaultTolerationOperator),
							MarkdownDescription: enumDoc(worker.TolerationOperators) + " Default `\"Equal\"`.",
							Validators:          oneOf(worker.TolerationOperators),
						},
						"value": schema.StringAttribute{Optional: true, MarkdownDescription: "Taint value, with `Equal`.", Validators: nonEmpty()},
						"effect": schema.StringAttribute{
							Optional: true, Computed: true, Default: stringdefault.StaticString(""),
							MarkdownDescription: enumDoc(worker.TaintEffects) + " `\"\"` matches every effect.",
							Validators:          oneOf(worker.TaintEffects),
						},
						"toleration_seconds": schema.Int64Attribute{Optional: true, MarkdownDescription: "How long a `NoExecute` taint is tolerated."},
					},
				},
			},
			"topology_spread": schema.ListNestedBlock{
				MarkdownDescription: "Spreads matching pods over a topology.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"max_skew": schema.Int64Attribute{
							Optional: true, Computed: true, Default: int64default.StaticInt64(worker.DefaultMaxSkew),
							MarkdownDescription: "Largest allowed difference between two domains. Default 1.",
							Validators:          []validator.Int64{int64validator.Between(1, math.MaxInt32)},
						},
						"topology_key": schema.StringAttribute{Required: true, MarkdownDescription: "Node label that defines the domains, e.g. `topology.kubernetes.io/zone`."},
						"when_unsatisfiable": schema.StringAttribute{
							Optional: true, Computed: true, Default: stringdefault.StaticString(worker.DefaultWhenUnsatisfiable),
							MarkdownDescription: enumDoc(worker.WhenUnsatisfiable) + " Default `\"DoNotSchedule\"`.",
							Validators:          oneOf(worker.WhenUnsatisfiable),
						},
						"labels": schema.MapAttribute{
							ElementType: types.StringType, Optional: true,
							MarkdownDescription: "Labels of the pods to count; default the worker's own labels (a label change then replaces the pod).",
						},
					},
				},
			},
		},
	}
}

func securityBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Process identity and privileges. Always: no privilege escalation, every capability dropped but `add_capabilities`, " +
			"and RuntimeDefault seccomp — the `baseline` Pod Security Standard, and `restricted` with `run_as_non_root`. " + replacesDoc,
		PlanModifiers: []planmodifier.Object{objectReplacedPerContract("security", replacesDoc)},
		Attributes: map[string]schema.Attribute{
			"run_as_user":               schema.Int64Attribute{Optional: true, MarkdownDescription: "UID of the process."},
			"run_as_group":              schema.Int64Attribute{Optional: true, MarkdownDescription: "GID of the process (on Docker only together with `run_as_user`)."},
			"run_as_non_root":           schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false), MarkdownDescription: "Refuse to run as UID 0."},
			"read_only_root_filesystem": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false), MarkdownDescription: "Mount the root file system read-only."},
			"add_capabilities":          schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Linux capabilities to keep, without `CAP_` (e.g. `NET_BIND_SERVICE`)."},
		},
	}
}

func durationAttribute(doc, def string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		CustomType:          durationType,
		Default:             stringdefault.StaticString(def),
		PlanModifiers:       []planmodifier.String{keepEquivalentPrior{kindDuration}},
		MarkdownDescription: doc + " A duration in whole seconds, compared by value (`\"1m\"` = `\"60s\"`). Default `\"" + def + "\"`.",
	}
}

func portAttribute(doc string) schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional:            true,
		MarkdownDescription: doc + " 1..65535. Required in the block.",
		Validators:          []validator.Int64{int64validator.Between(1, 65535)},
	}
}

func readinessBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "A readiness probe: give exactly one of `exec`, `http_get` or `tcp_socket`. On Kubernetes the container's " +
			"`readinessProbe`; on Docker a `HEALTHCHECK` (`exec` only: Docker has no HTTP or TCP probe of its own, and an image may lack " +
			"`wget` or `nc`, so `http_get` and `tcp_socket` are a plan error on Docker). `wait_for = \"ready\"` waits for it. " + replacesDoc,
		PlanModifiers: []planmodifier.Object{objectReplacedPerContract("readiness", replacesDoc)},
		Attributes: map[string]schema.Attribute{
			"period": durationAttribute("How often the probe runs (Kubernetes `periodSeconds`, Docker `Interval`), 1s..1h.", worker.DefaultProbePeriod),
			"failure_threshold": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(worker.DefaultProbeFailureThreshold),
				MarkdownDescription: "Failures in a row that make the worker not ready (Kubernetes `failureThreshold`) or unhealthy (Docker `Retries`). Default 3.",
				Validators:          []validator.Int64{int64validator.Between(1, math.MaxInt32)},
			},
			"initial_delay": durationAttribute("How long after the start the probe waits before it counts (Kubernetes `initialDelaySeconds`; "+
				"Docker `StartPeriod`, during which failures do not count), 0..1h.", worker.DefaultProbeInitialDelay),
		},
		Blocks: map[string]schema.Block{
			"exec": schema.SingleNestedBlock{
				MarkdownDescription: "Runs a command in the container; exit code 0 is ready. On Docker the health check `[\"CMD\", command...]`.",
				Attributes: map[string]schema.Attribute{
					"command": schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "The command and its arguments, without a shell. Required in the block."},
				},
			},
			"http_get": schema.SingleNestedBlock{
				MarkdownDescription: "An HTTP GET on the pod's IP; a 2xx or 3xx answer is ready. Kubernetes only.",
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{
						Optional: true, Computed: true, Default: stringdefault.StaticString(worker.DefaultHTTPPath),
						MarkdownDescription: "Path to ask for, starting with `/`. Default `\"/\"`.",
					},
					"port": portAttribute("Container port."),
					"scheme": schema.StringAttribute{
						Optional: true, Computed: true, Default: stringdefault.StaticString(worker.DefaultHTTPScheme),
						MarkdownDescription: enumDoc(worker.HTTPSchemes) + " Default `\"HTTP\"`.",
						Validators:          oneOf(worker.HTTPSchemes),
					},
				},
			},
			"tcp_socket": schema.SingleNestedBlock{
				MarkdownDescription: "A TCP connection to a port; an accepted connection is ready. Kubernetes only.",
				Attributes: map[string]schema.Attribute{
					"port": portAttribute("Container port."),
				},
			},
		},
	}
}
