package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRuntimeClassPrefersTheWorkersOwn(t *testing.T) {
	catalog, err := NewCatalog(GPUType{Name: "L4", Vendor: VendorNVIDIA, NodeLabel: "nvidia-l4", RuntimeClass: "nvidia"})
	require.NoError(t, err)
	s := &Spec{GPU: &GPU{Type: "l4", Count: 1}}
	assert.Equal(t, "nvidia", s.RuntimeClass(catalog), "the catalog's default")
	s.RuntimeClassName = "kata"
	assert.Equal(t, "kata", s.RuntimeClass(catalog), "the worker's own wins")
	assert.Empty(t, (&Spec{GPU: &GPU{Type: "a100", Count: 1}}).RuntimeClass(catalog), "built-in types have none")
	assert.Empty(t, (&Spec{}).RuntimeClass(nil))

	_, err = NewCatalog(GPUType{Name: "x", Vendor: VendorNVIDIA, NodeLabel: "x", RuntimeClass: "Bad Class"})
	assert.ErrorContains(t, err, `runtime_class "Bad Class" is not a DNS-1123 subdomain`)
}

func TestValidateIdentityRuntimeAndStorage(t *testing.T) {
	s := validSpec()
	s.ServiceAccountName = "trainer.sa"
	s.RuntimeClassName = "nvidia"
	s.ShmSize = "1Gi"
	s.Resources = &Resources{EphemeralStorage: "1Gi", EphemeralStorageLimit: "1024Mi"}
	s.Volumes = append(s.Volumes, Volume{Name: "shm2", MountPath: "/dev/shm2", Ephemeral: &EphemeralSource{}})
	assert.Empty(t, Validate(s, Policy{}), "a request equal in value to its limit is fine")

	// Without shm_size a user's own /dev/shm volume is the traditional way.
	s = validSpec()
	s.Volumes = []Volume{{Name: "shm", MountPath: ShmMountPath, Ephemeral: &EphemeralSource{Medium: "Memory"}}}
	assert.Empty(t, Validate(s, Policy{}))
	s.ShmSize = "256Mi"
	problems := Validate(s, Policy{})
	require.Len(t, problems, 1)
	assert.Equal(t, "volume[0].mount_path", problems[0].Path.String())
}

func TestChangesOfIdentityRuntimeAndStorage(t *testing.T) {
	for _, backend := range []Backend{BackendDocker, BackendKubernetes} {
		old := &Spec{Backend: backend, ShmSize: "1Gi", Resources: &Resources{CPU: "1", EphemeralStorage: "1Gi"}}
		for _, tc := range []struct {
			attr   string
			change func(s *Spec)
		}{
			{"service_account_name", func(s *Spec) { s.ServiceAccountName = "other" }},
			{"automount_service_account_token", func(s *Spec) { s.AutomountServiceAccountToken = true }},
			{"runtime_class_name", func(s *Spec) { s.RuntimeClassName = "nvidia" }},
			{"shm_size", func(s *Spec) { s.ShmSize = "2Gi" }},
			{"resources", func(s *Spec) { s.Resources = &Resources{CPU: "1", EphemeralStorage: "2Gi"} }},
			{"resources", func(s *Spec) {
				s.Resources = &Resources{CPU: "1", EphemeralStorage: "1Gi", EphemeralStorageLimit: "2Gi"}
			}},
		} {
			next := *old
			tc.change(&next)
			assert.Equal(t, []Change{{Attribute: tc.attr, InPlace: false}}, Changes(old, &next), "%s on %s", tc.attr, backend)
		}
		respelled := *old
		respelled.ShmSize = "1024Mi"
		respelled.Resources = &Resources{CPU: "1000m", EphemeralStorage: "1024Mi"}
		assert.Empty(t, Changes(old, &respelled), "respelled quantities are no change")
	}
	// The other resources still change in place on Docker.
	old := &Spec{Backend: BackendDocker, Resources: &Resources{CPU: "1", EphemeralStorage: "1Gi"}}
	next := &Spec{Backend: BackendDocker, Resources: &Resources{CPU: "2", EphemeralStorage: "1Gi"}}
	assert.Equal(t, []Change{{Attribute: "resources", InPlace: true}}, Changes(old, next))
}

func TestCanonicalKeepsIdentityRuntimeAndStorage(t *testing.T) {
	s := validSpec()
	s.ServiceAccountName, s.AutomountServiceAccountToken, s.RuntimeClassName, s.ShmSize = "sa", true, "nvidia", "512Mi"
	s.Resources = &Resources{EphemeralStorage: "1Gi", EphemeralStorageLimit: "2Gi"}
	text, err := EncodeCanonical(s)
	require.NoError(t, err)
	back, err := DecodeCanonical(text)
	require.NoError(t, err)
	assert.Equal(t, s, back)
}
