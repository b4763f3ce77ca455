package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validSpec() *Spec {
	return &Spec{Name: "trainer-0", Backend: BackendKubernetes, Namespace: "ml", Image: "registry.example/trainer:1.4", RestartPolicy: "Always"}
}

func TestValidateAcceptsTheContractExample(t *testing.T) {
	weight := int32(50)
	seconds := int64(300)
	uid := int64(1000)
	s := validSpec()
	s.Labels = map[string]string{"team": "ml"}
	s.Resources = &Resources{CPU: "2", Memory: "4Gi", CPULimit: "4", MemoryLimit: "8Gi"}
	s.GPU = &GPU{Count: 2, Type: "A100"}
	s.Volumes = []Volume{
		{Name: "datasets", MountPath: "/data", ReadOnly: true, SubPath: "v3", Persistent: &PersistentSource{ClaimName: "datasets"}},
		{Name: "scratch", MountPath: "/scratch", Ephemeral: &EphemeralSource{SizeLimit: "10Gi", Medium: "Memory"}},
		{Name: "models", MountPath: "/models", HostPath: &HostPathSource{Path: "/srv/hodei/models", Type: "Directory"}},
	}
	s.Scheduling = &Scheduling{
		NodeSelector:      map[string]string{"topology.kubernetes.io/zone": "zone-a"},
		PriorityClassName: "batch-high",
		NodeAffinity:      []NodeAffinity{{Weight: &weight, MatchExpressions: []MatchExpression{{Key: "node.kubernetes.io/instance-type", Operator: "In", Values: []string{"p4d.24xlarge"}}}}},
		PodAntiAffinity:   []PodAffinity{{Labels: map[string]string{"app": "trainer"}, TopologyKey: DefaultTopologyKey}},
		Tolerations:       []Toleration{{Key: "dedicated", Operator: "Equal", Value: "ml", Effect: "NoExecute", TolerationSeconds: &seconds}},
		TopologySpread:    []TopologySpread{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule"}},
	}
	s.Security = &Security{RunAsUser: &uid, RunAsNonRoot: true, AddCapabilities: []string{"NET_BIND_SERVICE"}}
	assert.Empty(t, Validate(s, Policy{HostPathAllowlist: []string{"/srv/hodei"}}))
}

func TestValidateNamesTheAttribute(t *testing.T) {
	for attr, mutate := range map[string]func(*Spec){
		"name":      func(s *Spec) { s.Name = "Trainer" },
		"image":     func(s *Spec) { s.Image = "trainer image" },
		"gpu.type":  func(s *Spec) { s.GPU = &GPU{Count: 1, Type: "h10"} },
		"gpu.count": func(s *Spec) { s.GPU = &GPU{Count: 17, Type: "h100"} },
		"volume[0].host_path.path": func(s *Spec) {
			s.Volumes = []Volume{{Name: "v", MountPath: "/v", HostPath: &HostPathSource{Path: "/etc"}}}
		},
		"labels": func(s *Spec) { s.Labels = map[string]string{LabelManagedBy: "me"} },
	} {
		s := validSpec()
		mutate(s)
		problems := Validate(s, Policy{Catalog: DefaultCatalog(), HostPathAllowlist: []string{"/srv/hodei"}})
		require.NotEmpty(t, problems, attr)
		assert.Equal(t, attr, problems[0].Path.String())
	}
}

func TestCatalogSuggestsNearestAndTakesAdditions(t *testing.T) {
	c, err := NewCatalog(GPUType{Name: "H200", Vendor: VendorNVIDIA, NodeLabel: "nvidia-h200"})
	require.NoError(t, err)
	h200, ok := c.Lookup("h200")
	require.True(t, ok)
	assert.Equal(t, "nvidia.com/gpu", h200.ResourceName())
	assert.Equal(t, "a100", c.Nearest("a10O"))
	assert.Equal(t, "mi200", c.Nearest("MI20"))
	assert.Contains(t, c.UnknownTypeError("xe"), "intel-xe")
	_, err = NewCatalog(GPUType{Name: "x", Vendor: "acme"})
	assert.Error(t, err)
	amd, _ := c.Lookup("MI100")
	assert.Equal(t, "amd.com/gpu", amd.ResourceName())
	intel, _ := c.Lookup("intel-xe")
	assert.Equal(t, "gpu.intel.com/i915", intel.ResourceName())
}

func TestCanonicalRoundTripKeepsNilAndEmptyApart(t *testing.T) {
	s := validSpec()
	s.Env = map[string]string{}
	s.Command = []string{}
	text, err := EncodeCanonical(s)
	require.NoError(t, err)
	back, err := DecodeCanonical(text)
	require.NoError(t, err)
	assert.Equal(t, s, back)
	assert.NotNil(t, back.Env)
	assert.Nil(t, back.Labels)

	for _, bad := range []string{"", "{", `{"v":2,"spec":{"name":"a","backend":"docker"}}`, `{"v":1,"spec":{}}`, `[]`} {
		_, err := DecodeCanonical(bad)
		assert.Error(t, err, bad)
	}
}

func TestChangesFollowTheContractTable(t *testing.T) {
	old := validSpec()
	old.Resources = &Resources{CPU: "0.5", MemoryLimit: "1Gi"}
	old.GPU = &GPU{Count: 1, Type: "A100"}

	respelled := *old
	respelled.Resources = &Resources{CPU: "500m", MemoryLimit: "1024Mi"}
	respelled.GPU = &GPU{Count: 1, Type: "a100"}
	assert.Empty(t, Changes(old, &respelled))

	relabelled := *old
	relabelled.Labels = map[string]string{"team": "ml"}
	assert.Equal(t, []Change{{Attribute: "labels", InPlace: true}}, Changes(old, &relabelled))

	resized := *old
	resized.Resources = &Resources{CPU: "1", MemoryLimit: "1Gi"}
	assert.Equal(t, []Change{{Attribute: "resources", InPlace: false}}, Changes(old, &resized), "resources replace on kubernetes")

	dockerOld, dockerNew := *old, resized
	dockerOld.Backend, dockerNew.Backend = BackendDocker, BackendDocker
	assert.Equal(t, []Change{{Attribute: "resources", InPlace: true}}, Changes(&dockerOld, &dockerNew))
	dockerRelabelled := relabelled
	dockerRelabelled.Backend = BackendDocker
	assert.Equal(t, []Change{{Attribute: "labels", InPlace: false}}, Changes(&dockerOld, &dockerRelabelled))
	unlimited := dockerOld
	unlimited.Resources = &Resources{CPU: "0.5"}
	assert.Equal(t, []Change{{Attribute: "resources", InPlace: false}}, Changes(&dockerOld, &unlimited), "docker update cannot unset a limit")

	spread := *old
	spread.Scheduling = &Scheduling{TopologySpread: []TopologySpread{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule"}}}
	spreadRelabelled := spread
	spreadRelabelled.Labels = map[string]string{"team": "ml"}
	assert.Equal(t, []Change{{Attribute: "labels", InPlace: false}}, Changes(&spread, &spreadRelabelled))

	moved := *old
	moved.Backend = BackendDocker
	assert.Contains(t, Changes(old, &moved), Change{Attribute: "backend"})
}

func TestResolveBackendAndParseID(t *testing.T) {
	b, err := ResolveBackend("", map[string]string{LabelProvider: "kubernetes"}, "docker")
	require.NoError(t, err)
	assert.Equal(t, BackendKubernetes, b)
	b, err = ResolveBackend("", nil, "")
	require.NoError(t, err)
	assert.Equal(t, BackendDocker, b)
	_, err = ResolveBackend("docker", map[string]string{LabelProvider: "kubernetes"}, "")
	assert.Error(t, err)

	for id, want := range map[string]Ref{
		"kubernetes/ml/trainer-0": {Backend: BackendKubernetes, Namespace: "ml", Name: "trainer-0"},
		"ml/trainer-0":            {Backend: BackendKubernetes, Namespace: "ml", Name: "trainer-0"},
		"docker/builder-0":        {Backend: BackendDocker, Name: "builder-0"},
	} {
		got, err := ParseID(id)
		require.NoError(t, err, id)
		assert.Equal(t, want, got)
	}
	assert.Equal(t, "kubernetes/ml/trainer-0", Ref{Backend: BackendKubernetes, Namespace: "ml", Name: "trainer-0"}.ID())
	for _, bad := range []string{"", "docker", "docker/Bad", "a/b/c/d", "nomad/x/y"} {
		_, err := ParseID(bad)
		assert.Error(t, err, bad)
	}
}
