package worker

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Fuzzers for what reaches the provider from outside: a configuration
// (FuzzValidate) and the canonical spec read back from an object that anyone
// with access to the backend can edit (FuzzDecodeCanonical). scripts/test.sh
// runs each for 60 s; `go test` alone runs the seeds.

// seedSpecs are realistic specs: the contract's example on both backends, a
// Docker worker, a bare one, and specs with each kind of mistake.
func seedSpecs() []*Spec {
	weight := int32(50)
	bad := int32(0)
	seconds := int64(300)
	uid, root := int64(1000), int64(0)
	full := validSpec()
	full.Command = []string{"python", "train.py"}
	full.Args = []string{"--epochs", "10"}
	full.Env = map[string]string{"EPOCHS": "10"}
	full.WorkingDir = "/work"
	full.Labels = map[string]string{"team": "ml", LabelProvider: "kubernetes"}
	full.Annotations = map[string]string{"owner": "ml-platform"}
	full.Resources = &Resources{CPU: "2", Memory: "4Gi", CPULimit: "4", MemoryLimit: "8Gi"}
	full.GPU = &GPU{Count: 2, Type: "A100"}
	full.Volumes = []Volume{
		{Name: "datasets", MountPath: "/data", ReadOnly: true, SubPath: "v3", Persistent: &PersistentSource{ClaimName: "datasets"}},
		{Name: "scratch", MountPath: "/scratch", Ephemeral: &EphemeralSource{SizeLimit: "10Gi", Medium: "Memory"}},
		{Name: "models", MountPath: "/models", HostPath: &HostPathSource{Path: "/srv/hodei/models", Type: "Directory"}},
	}
	full.Scheduling = &Scheduling{
		NodeSelector:      map[string]string{"topology.kubernetes.io/zone": "zone-a"},
		PriorityClassName: "batch-high",
		NodeAffinity: []NodeAffinity{
			{Weight: &weight, MatchExpressions: []MatchExpression{{Key: "node.kubernetes.io/instance-type", Operator: "In", Values: []string{"p4d.24xlarge"}}}},
			{Required: true, MatchExpressions: []MatchExpression{{Key: "gpu-count", Operator: "Gt", Values: []string{"3"}}}},
		},
		PodAffinity:     []PodAffinity{{Labels: map[string]string{"app": "cache"}, TopologyKey: DefaultTopologyKey, Weight: &weight, Namespaces: []string{"ml"}}},
		PodAntiAffinity: []PodAffinity{{Labels: map[string]string{"app": "trainer"}, TopologyKey: DefaultTopologyKey, Required: true}},
		Tolerations:     []Toleration{{Key: "dedicated", Operator: "Equal", Value: "ml", Effect: "NoExecute", TolerationSeconds: &seconds}},
		TopologySpread:  []TopologySpread{{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule"}},
	}
	full.Security = &Security{RunAsUser: &uid, RunAsGroup: &uid, RunAsNonRoot: true, ReadOnlyRootFilesystem: true, AddCapabilities: []string{"NET_BIND_SERVICE"}}

	dockerWorker := &Spec{Name: "builder-0", Backend: BackendDocker, Image: "busybox:1.36", RestartPolicy: "OnFailure",
		Command: []string{"sleep"}, Args: []string{"3600"}, Env: map[string]string{}, Labels: map[string]string{"team": "ci"},
		Resources: &Resources{CPU: "500m", MemoryLimit: "1024Mi"},
		GPU:       &GPU{Count: 1, Type: "mi200"},
		Volumes:   []Volume{{Name: "cache", MountPath: "/cache", Ephemeral: &EphemeralSource{}}}}

	mistakes := &Spec{Name: "Bad_Name", Backend: "nomad", Namespace: "ML", Image: "Bad Image", RestartPolicy: "Sometimes",
		Env:         map[string]string{"1BAD": "x"},
		WorkingDir:  "rel",
		Labels:      map[string]string{"bad key!": "x", LabelWorker: "w", LabelProvider: "nomad"},
		Annotations: map[string]string{"-bad": "x", AnnotationSpec: "{}"},
		Resources:   &Resources{CPU: "0.0001", Memory: "-1Gi", CPULimit: "two", MemoryLimit: "1e400"},
		GPU:         &GPU{Count: 17, Type: "a10O"},
		Volumes: []Volume{
			{Name: "v", MountPath: "data", SubPath: "../x", Persistent: &PersistentSource{}, Ephemeral: &EphemeralSource{SizeLimit: "big", Medium: "HugePages"}},
			{Name: "v", MountPath: "/a/../b", HostPath: &HostPathSource{Path: "/etc", Type: "Folder"}},
			{Name: "w", MountPath: "/w"},
		},
		Scheduling: &Scheduling{
			NodeSelector:      map[string]string{"": ""},
			PriorityClassName: "Bad_Class",
			NodeAffinity: []NodeAffinity{
				{Required: true, Weight: &weight},
				{Weight: &bad, MatchExpressions: []MatchExpression{{Key: "", Operator: "Near"}, {Key: "k", Operator: "Gt", Values: []string{"many"}}, {Key: "k", Operator: "Exists", Values: []string{"x"}}}},
			},
			PodAffinity:     []PodAffinity{{TopologyKey: "", Namespaces: []string{"Bad_NS"}}},
			PodAntiAffinity: []PodAffinity{{Labels: map[string]string{"app": "x"}, Required: true, Weight: &weight}},
			Tolerations:     []Toleration{{Operator: "Equal", Value: "v", Effect: "NoRun", TolerationSeconds: &seconds}, {Key: "k", Operator: "Exists", Value: "v"}},
			TopologySpread:  []TopologySpread{{MaxSkew: 0, TopologyKey: "bad key", WhenUnsatisfiable: "Ignore", Labels: map[string]string{}}},
		},
		Security: &Security{RunAsUser: &root, RunAsGroup: &seconds, RunAsNonRoot: true, AddCapabilities: []string{"CAP_NET_ADMIN"}},
	}
	return []*Spec{full, dockerWorker, validSpec(), mistakes, {}}
}

func FuzzValidate(f *testing.F) {
	for _, s := range seedSpecs() {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "/srv/hodei", string(s.Backend))
	}
	f.Add([]byte(`{"name":"x","volumes":[{"host_path":{"path":"/srv/hodei-evil"}}]}`), "/srv/hodei/", "docker")
	f.Add([]byte(`{"gpu":{"count":-9223372036854775808,"type":""}}`), "", "")
	f.Add([]byte(`{"scheduling":{"node_affinity":[{"match_expression":[{"operator":"Lt","values":["99999999999999999999"]}]}]}}`), "/", "kubernetes")
	f.Add([]byte(`null`), "", "")

	f.Fuzz(func(t *testing.T, data []byte, allow string, backend string) {
		var s Spec
		if err := json.Unmarshal(data, &s); err != nil {
			// Not a spec: still a name and image to validate.
			s = Spec{Name: string(data), Image: string(data), Backend: Backend(backend)}
		}
		policy := Policy{}
		if allow != "" {
			policy.HostPathAllowlist = []string{allow}
		}
		problems := Validate(&s, policy)
		for _, p := range problems {
			if len(p.Path) == 0 {
				t.Errorf("a problem names no attribute: %v", p)
			}
			_ = p.String()
		}
		// The provider encodes a spec once it has resolved the backend (an
		// empty one here: the label's, else docker), and checks it again then.
		resolved := s
		var resolveErr error
		if resolved.Backend == "" {
			resolved.Backend, resolveErr = ResolveBackend("", s.Labels, "")
		}
		if len(problems) == 0 && resolveErr == nil && len(Validate(&resolved, policy)) == 0 {
			// What validates encodes, and decodes to a spec with the same
			// canonical form and no change against it. (Empty lists that the
			// form omits come back nil; the provider never makes them.)
			text, err := EncodeCanonical(&resolved)
			if err != nil {
				t.Fatalf("a valid spec does not encode: %v", err)
			}
			back, err := DecodeCanonical(text)
			if err != nil {
				t.Fatalf("a valid spec does not decode: %v\n%s", err, text)
			}
			if again, err := EncodeCanonical(back); err != nil || again != text {
				t.Fatalf("round trip changed a valid spec:\n%s\n%s (%v)", text, again, err)
			}
			if ps := Validate(back, policy); len(ps) != 0 {
				t.Fatalf("a valid spec is invalid once decoded: %v", ps)
			}
		}
		_, _ = ResolveBackend(backend, s.Labels, "")
		if c := Changes(&s, &s); len(c) != 0 {
			t.Errorf("a spec differs from itself: %v", c)
		}
		other := seedSpecs()[0]
		_ = Changes(&s, other)
		_ = Changes(other, &s)
		_ = Changes(&s, &Spec{})
	})
}

func FuzzDecodeCanonical(f *testing.F) {
	for _, s := range seedSpecs() {
		text, err := EncodeCanonical(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	for _, s := range []string{
		"", "{", "[]", "null", `"x"`, `{"v":1}`, `{"v":2,"spec":{"name":"a","backend":"docker"}}`,
		`{"v":1,"spec":{}}`, `{"v":1,"spec":null}`, `{"v":1,"spec":{"name":"a","backend":"docker","gpu":{"count":"2"}}}`,
		`{"v":1,"spec":{"name":"a","backend":"docker","volumes":[null,{}]}}`,
		`{"v":1.5,"spec":{"name":"a","backend":"docker"}}`, `{"v":1,"spec":{"name":"a","backend":"docker"}} trailing`,
		"{\"v\":1,\"spec\":{\"name\":\"\xff\",\"backend\":\"docker\"}}",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, text string) {
		s, err := DecodeCanonical(text)
		if err != nil {
			if s != nil {
				t.Fatalf("an error with a spec: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if s == nil || s.Name == "" || s.Backend == "" {
			t.Fatalf("decoded without name or backend: %#v", s)
		}
		_ = Validate(s, Policy{})
		_ = Changes(s, s)
		// decode(encode(spec)) is spec, once in canonical form (the form
		// omits empty lists, which come back nil).
		encoded, err := EncodeCanonical(s)
		if err != nil {
			t.Fatalf("a decoded spec does not encode: %v", err)
		}
		canonical, err := DecodeCanonical(encoded)
		if err != nil {
			t.Fatalf("a re-encoded spec does not decode: %v\n%s", err, encoded)
		}
		again, err := EncodeCanonical(canonical)
		if err != nil || again != encoded {
			t.Fatalf("encoding is not stable:\n%s\n%s (%v)", encoded, again, err)
		}
		back, err := DecodeCanonical(again)
		if err != nil {
			t.Fatalf("decoding the canonical form failed: %v", err)
		}
		if !reflect.DeepEqual(canonical, back) {
			t.Fatalf("decode(encode(spec)) differs:\n%#v\n%#v", canonical, back)
		}
		if c := Changes(canonical, back); len(c) != 0 {
			t.Fatalf("a round trip shows changes: %v", c)
		}
	})
}

// TestHugeQuantitiesAreRefusedQuickly: such quantities once took minutes to
// compare, in plan, before any diagnostic.
func TestHugeQuantitiesAreRefusedQuickly(t *testing.T) {
	for _, q := range []string{"1e100000000", "1E-60000000", "1e31", "99999999999999999999", "9Ei", strings.Repeat("1", 65)} {
		start := time.Now()
		s := validSpec()
		s.Resources = &Resources{CPU: q, CPULimit: "1", Memory: "1Gi", MemoryLimit: q}
		problems := Validate(s, Policy{})
		if QuantityEqual(q, "1") {
			t.Errorf("%s equals 1", q)
		}
		if len(problems) == 0 {
			t.Errorf("%s accepted", q)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %s", q, d)
		}
	}
	for _, q := range []string{"1e3", "5E9", "1e-3", "8Ei", "500m", "1.5Gi"} {
		if _, err := ParseQuantity(q); err != nil {
			t.Errorf("%s refused: %v", q, err)
		}
	}
}
