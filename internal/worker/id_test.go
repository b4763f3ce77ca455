package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docker/<name> is always a Docker worker, and the short <namespace>/<name>
// form does not take a namespace named like a backend: such a namespace is
// written out in full, and the error says how.
func TestParseIDReadsBackendNamesUnambiguously(t *testing.T) {
	for id, want := range map[string]Ref{
		"docker/x":                {Backend: BackendDocker, Name: "x"},
		"kubernetes/docker/x":     {Backend: BackendKubernetes, Namespace: "docker", Name: "x"},
		"kubernetes/kubernetes/x": {Backend: BackendKubernetes, Namespace: "kubernetes", Name: "x"},
		"ml/x":                    {Backend: BackendKubernetes, Namespace: "ml", Name: "x"},
		"kubernetes/ml/trainer-0": {Backend: BackendKubernetes, Namespace: "ml", Name: "trainer-0"},
		"dockerish/x":             {Backend: BackendKubernetes, Namespace: "dockerish", Name: "x"},
	} {
		got, err := ParseID(id)
		require.NoError(t, err, id)
		assert.Equal(t, want, got, id)
	}
	for id, hint := range map[string]string{
		"kubernetes/x": "kubernetes/kubernetes/x",
		"docker/ml/x":  "kubernetes/<namespace>/<name>",
	} {
		_, err := ParseID(id)
		require.Error(t, err, id)
		assert.Contains(t, err.Error(), hint, id)
	}
}
