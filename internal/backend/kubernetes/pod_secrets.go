package kubernetes

import (
	"fmt"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// referenceEnv is the worker's secret_env and config_env: variables whose
// values the kubelet reads from a Secret's or ConfigMap's key.
func referenceEnv(spec *worker.Spec) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range spec.SecretEnv {
		out = append(out, corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: e.Source}, Key: e.Key, Optional: optionalRef(e.Optional),
		}}})
	}
	for _, e := range spec.ConfigEnv {
		out = append(out, corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: e.Source}, Key: e.Key, Optional: optionalRef(e.Optional),
		}}})
	}
	return out
}

// envFromSources is the worker's env_from, then the provider's own Secret
// when secret_env_wo has values: envFrom keeps even their names out of
// the pod spec.
func envFromSources(spec *worker.Spec) []corev1.EnvFromSource {
	var out []corev1.EnvFromSource
	for _, e := range spec.EnvFrom {
		src := corev1.EnvFromSource{Prefix: e.Prefix}
		if e.SecretRef != "" {
			src.SecretRef = &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.SecretRef}, Optional: optionalRef(e.Optional)}
		} else {
			src.ConfigMapRef = &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: e.ConfigMapRef}, Optional: optionalRef(e.Optional)}
		}
		out = append(out, src)
	}
	if len(spec.SecretEnvWO) > 0 {
		out = append(out, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: worker.OwnedSecretName(spec.Name)},
		}})
	}
	return out
}

// readsOwnedSecret tells whether the pod takes its environment from the
// Secret the provider makes for secret_env_wo. Only then does deleting the
// worker touch Secrets, so that a worker without write-only values needs no
// permission on them.
func readsOwnedSecret(pod *corev1.Pod) bool {
	owned := worker.OwnedSecretName(pod.Name)
	for _, c := range pod.Spec.Containers {
		for _, src := range c.EnvFrom {
			if src.SecretRef != nil && src.SecretRef.Name == owned {
				return true
			}
		}
	}
	return false
}

func optionalRef(optional bool) *bool {
	if !optional {
		return nil
	}
	return ptr(true)
}

// keysVolume sets a secret or config_map volume source.
func keysVolume(volume *corev1.Volume, v worker.Volume) error {
	src := v.Secret
	if src == nil {
		src = v.ConfigMap
	}
	var mode *int32
	if src.DefaultMode != "" {
		m, err := worker.ParseFileMode(src.DefaultMode)
		if err != nil {
			return fmt.Errorf("default_mode %q %w", src.DefaultMode, err)
		}
		mode = &m
	}
	var items []corev1.KeyToPath
	for _, item := range src.Items {
		items = append(items, corev1.KeyToPath{Key: item.Key, Path: item.Path})
	}
	if v.Secret != nil {
		volume.Secret = &corev1.SecretVolumeSource{SecretName: src.Name, Items: items, DefaultMode: mode}
		return nil
	}
	volume.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: src.Name}, Items: items, DefaultMode: mode}
	return nil
}

// ownedSecret is the Secret that carries secret_env_wo's values, labelled
// as the worker's; the pod's ownerReference is added once the pod exists.
func ownedSecret(spec *worker.Spec) *corev1.Secret {
	data := make(map[string][]byte, len(spec.SecretEnvWO))
	for k, v := range spec.SecretEnvWO {
		data[k] = []byte(v)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: worker.OwnedSecretName(spec.Name), Namespace: namespaceOf(spec), Labels: spec.OwnershipLabels()},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}
