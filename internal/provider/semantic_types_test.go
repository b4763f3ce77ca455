package provider

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSemanticEquality(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		a, b  semanticStringValue
		equal bool
	}{
		{quantityValue("1Gi"), quantityValue("1024Mi"), true},
		{quantityValue("0.5"), quantityValue("500m"), true},
		{quantityValue("1"), quantityValue("1001m"), false},
		{gpuTypeValue("A100"), gpuTypeValue("a100"), true},
		{gpuTypeValue("a100"), gpuTypeValue("h100"), false},
		{quantityValue("1"), gpuTypeValue("1"), false},
	} {
		got, diags := tc.a.StringSemanticEquals(ctx, tc.b)
		assert.False(t, diags.HasError())
		assert.Equal(t, tc.equal, got, "%s vs %s", tc.a, tc.b)
	}
}
