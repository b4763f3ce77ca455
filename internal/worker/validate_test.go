package worker

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The same configuration gives the same diagnostics in the same order: map
// keys are checked in sorted order, and the blocks in the order of the schema.
func TestValidateReportsMapKeysInSortedOrder(t *testing.T) {
	s := validSpec()
	s.Env = map[string]string{"9LIVES": "", "B=1": "", "A B": "", "OK": "", "1A": "", "X Y": "", "": ""}
	s.Labels = map[string]string{"Bad Key": "v", "also bad!": "v", "ok": "bad value!", "-x": "v"}
	s.Annotations = map[string]string{"Bad Key": "v", "also bad!": "v", "-x": "v"}
	s.Scheduling = &Scheduling{
		NodeSelector:    map[string]string{"z z": "1", "a a": "2", "m m": "3"},
		PodAffinity:     []PodAffinity{{TopologyKey: DefaultTopologyKey}},
		PodAntiAffinity: []PodAffinity{{TopologyKey: DefaultTopologyKey}},
	}
	first := Validate(s, Policy{})

	var envKeys []string
	for _, p := range first {
		if p.Path.String() == "env" {
			key, err := strconv.QuotedPrefix(p.Detail)
			require.NoError(t, err, p.Detail)
			envKeys = append(envKeys, key)
		}
	}
	require.Len(t, envKeys, 6, "one problem per bad env key: %v", first)
	assert.True(t, slices.IsSorted(envKeys), "env problems not in key order: %v", envKeys)
	affinity := slices.IndexFunc(first, func(p Problem) bool { return strings.HasPrefix(p.Path.String(), "scheduling.pod_affinity") })
	antiAffinity := slices.IndexFunc(first, func(p Problem) bool { return strings.HasPrefix(p.Path.String(), "scheduling.pod_anti_affinity") })
	assert.True(t, affinity >= 0 && antiAffinity > affinity, "pod_affinity's problems not before pod_anti_affinity's: %v", first)

	for range 20 {
		if !assert.Equal(t, first, Validate(s, Policy{})) {
			break
		}
	}
}
