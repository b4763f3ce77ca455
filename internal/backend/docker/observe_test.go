package docker

import (
	"fmt"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Every CPU request and limit that the container holds reads back as a value
// equal to the one that made it, also when the canonical label is stale
// (after an in-place update, it still holds the values of the create).
func TestObservedResourcesRoundTripCPU(t *testing.T) {
	stale := &worker.Resources{CPU: "0.5", CPULimit: "1"}
	for milli := int64(2); milli <= 8000; milli++ {
		written := fmt.Sprintf("%dm", milli)
		var live container.Resources
		require.NoError(t, applyResources(&live, &worker.Resources{CPU: written, CPULimit: written}))
		got := observedResources(stale, live)
		require.NotNil(t, got)
		if !worker.QuantityEqual(written, got.CPU) || !worker.QuantityEqual(written, got.CPULimit) {
			t.Fatalf("%s (shares %d, NanoCPUs %d) reads back as cpu %q, cpu_limit %q", written, live.CPUShares, live.NanoCPUs, got.CPU, got.CPULimit)
		}
	}
	for _, written := range []string{"0.3", "1.7", "0.1", "2.345", "3"} {
		var live container.Resources
		require.NoError(t, applyResources(&live, &worker.Resources{CPU: written, CPULimit: written}))
		got := observedResources(stale, live)
		assert.True(t, worker.QuantityEqual(written, got.CPU), "cpu %s read back as %s", written, got.CPU)
		assert.True(t, worker.QuantityEqual(written, got.CPULimit), "cpu_limit %s read back as %s", written, got.CPULimit)
	}
}

// A declared value the container still has keeps its spelling.
func TestObservedResourcesKeepsDeclaredSpelling(t *testing.T) {
	declared := &worker.Resources{CPU: "0.3", CPULimit: "1.7", Memory: "0.25Gi", MemoryLimit: "1024Mi"}
	var live container.Resources
	require.NoError(t, applyResources(&live, declared))
	assert.Equal(t, declared, observedResources(declared, live))
}
