package kubernetes

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

func TestBuildPodSecretReferences(t *testing.T) {
	spec := baseSpec()
	spec.EnvFrom = []worker.EnvFrom{{SecretRef: "db", Prefix: "DB_"}, {ConfigMapRef: "settings", Optional: true}}
	spec.SecretEnv = []worker.KeyEnv{{Name: "PASSWORD", Source: "db", Key: "password", Optional: true}}
	spec.ConfigEnv = []worker.KeyEnv{{Name: "LEVEL", Source: "settings", Key: "level"}}
	spec.Volumes = []worker.Volume{
		{Name: "creds", MountPath: "/creds", Secret: &worker.KeysSource{Name: "db", DefaultMode: "0440", Items: []worker.KeyPath{{Key: "password", Path: "db/password"}}}},
		{Name: "settings", MountPath: "/etc/settings", ConfigMap: &worker.KeysSource{Name: "settings"}},
	}
	spec.SecretEnvWO = map[string]string{"TOKEN": "write-only-value"}
	spec.SecretEnvWOVersion = ptr(int64(3))
	pod := mustBuild(t, spec, Options{})
	c := pod.Spec.Containers[0]

	assert.Equal(t, []corev1.EnvFromSource{
		{Prefix: "DB_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}},
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Optional: ptr(true)}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "trainer-0-hodei-env"}}},
	}, c.EnvFrom)
	assert.Equal(t, &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password", Optional: ptr(true)}}, c.Env[3].ValueFrom)
	assert.Equal(t, &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "level"}}, c.Env[4].ValueFrom)
	assert.Equal(t, &corev1.SecretVolumeSource{SecretName: "db", DefaultMode: ptr(int32(0o440)), Items: []corev1.KeyToPath{{Key: "password", Path: "db/password"}}}, pod.Spec.Volumes[0].Secret)
	assert.Equal(t, "settings", pod.Spec.Volumes[1].ConfigMap.Name)

	// The write-only value is in no part of the pod; its version is in the
	// canonical spec, which reads back as the spec without the values.
	b, err := json.Marshal(pod)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "write-only-value")
	obs, err := observe(pod)
	require.NoError(t, err)
	want := *spec
	want.SecretEnvWO = nil
	assert.Equal(t, want, obs.Spec)

	secret := ownedSecret(spec)
	assert.Equal(t, "trainer-0-hodei-env", secret.Name)
	assert.Equal(t, spec.Namespace, secret.Namespace)
	assert.True(t, worker.IsOwned(secret.Labels, spec.Name))
	assert.Equal(t, map[string][]byte{"TOKEN": []byte("write-only-value")}, secret.Data)
}
