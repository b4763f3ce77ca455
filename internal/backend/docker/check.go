package docker

import (
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Check names, before any API call, each setting that Docker cannot honour.
// Most are warnings: the worker still runs, and the user sees what was left
// out instead of losing it silently. A readiness probe Docker cannot run is
// an error: nothing would ever report the worker ready.
func Check(s *worker.Spec, catalog *worker.Catalog) worker.Problems {
	var ps worker.Problems
	const summary = "Not honoured by Docker"
	if s.Namespace != "" {
		ps.Warnf(worker.Path{"namespace"}, summary, "Docker has no namespaces; namespace applies to the kubernetes backend only.")
	}
	if len(s.ImagePullSecrets) > 0 {
		ps.Warnf(worker.Path{"image_pull_secrets"}, summary, "image_pull_secrets names Kubernetes Secrets and is ignored on the docker backend; "+
			"Docker pulls with the provider's docker.registry_auth credentials, else those of the Docker config file (DOCKER_CONFIG, else ~/.docker/config.json).")
	}
	for _, p := range s.KubernetesReferences() {
		ps.Errorf(p, "Kubernetes only", "Kubernetes Secrets and ConfigMaps do not exist on a Docker engine, so this setting works on the kubernetes backend only; "+
			"on the docker backend pass values with env, or secret_env_wo for secrets, or run the worker with backend = \"kubernetes\".")
	}
	if sch := s.Scheduling; sch != nil {
		base := worker.Path{"scheduling"}
		unsupported := map[string]bool{
			"node_selector":       len(sch.NodeSelector) > 0,
			"priority_class_name": sch.PriorityClassName != "",
			"node_affinity":       len(sch.NodeAffinity) > 0,
			"pod_affinity":        len(sch.PodAffinity) > 0,
			"pod_anti_affinity":   len(sch.PodAntiAffinity) > 0,
			"toleration":          len(sch.Tolerations) > 0,
			"topology_spread":     len(sch.TopologySpread) > 0,
		}
		for _, attr := range []string{"node_selector", "priority_class_name", "node_affinity", "pod_affinity", "pod_anti_affinity", "toleration", "topology_spread"} {
			if unsupported[attr] {
				ps.Warnf(base.Child(attr), summary, "a Docker engine is one host: scheduling.%s is ignored on the docker backend.", attr)
			}
		}
	}
	for i, v := range s.Volumes {
		base := worker.Path{"volume", i}
		if v.Ephemeral == nil {
			continue
		}
		if v.Ephemeral.Medium == "" && v.Ephemeral.SizeLimit != "" {
			ps.Warnf(base.Child("ephemeral", "size_limit"), summary, "an anonymous Docker volume has no size limit; size_limit is enforced only with medium = \"Memory\" (tmpfs).")
		}
		if v.SubPath != "" {
			ps.Warnf(base.Child("sub_path"), summary, "an ephemeral volume starts empty on Docker; sub_path is ignored.")
		}
	}
	ps = append(ps, worker.CheckDockerGPU(s)...)
	if s.GPU != nil {
		if gpu, ok := catalog.Lookup(s.GPU.Type); ok && gpu.Vendor != worker.VendorNVIDIA {
			ps.Warnf(worker.Path{"gpu", "count"}, summary, "Docker passes every %s GPU of the host (/dev/dri) to the container; count is enforced only by NVIDIA device requests and on Kubernetes.", gpu.Vendor)
		}
	}
	if s.ServiceAccountName != "" {
		ps.Warnf(worker.Path{"service_account_name"}, summary, "Docker has no service accounts; service_account_name applies to the kubernetes backend only.")
	}
	if s.AutomountServiceAccountToken {
		ps.Warnf(worker.Path{"automount_service_account_token"}, summary, "Docker has no Kubernetes API token to mount; automount_service_account_token applies to the kubernetes backend only.")
	}
	if r := s.Resources; r != nil {
		for _, e := range []struct{ attr, value string }{{"ephemeral_storage", r.EphemeralStorage}, {"ephemeral_storage_limit", r.EphemeralStorageLimit}} {
			if e.value != "" {
				ps.Warnf(worker.Path{"resources", e.attr}, summary, "a container's disk size (storage-opt size) needs a storage driver with quotas, which overlay2 lacks without xfs pquota; resources.%s applies to the kubernetes backend only.", e.attr)
			}
		}
	}
	if r := s.Readiness; r != nil {
		for kind, set := range map[string]bool{"http_get": r.HTTPGet != nil, "tcp_socket": r.TCPSocket != nil} {
			if set {
				ps.Errorf(worker.Path{"readiness", kind}, "Probe not available on Docker",
					"Docker's health check runs a command in the container and has no %s probe; use readiness.exec (e.g. a command that "+
						"checks the port with a tool the image has), or the kubernetes backend.", kind)
			}
		}
	}
	if sec := s.Security; sec != nil && sec.RunAsGroup != nil && sec.RunAsUser == nil {
		ps.Warnf(worker.Path{"security", "run_as_group"}, summary, "Docker sets a group only together with a user; set run_as_user too.")
	}
	return ps
}
