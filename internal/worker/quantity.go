package worker

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// QuantityEqual compares two quantities by value ("1Gi" = "1024Mi",
// "0.5" = "500m"); unparsable ones compare as text.
func QuantityEqual(a, b string) bool {
	if a == b {
		return true
	}
	qa, errA := resource.ParseQuantity(a)
	qb, errB := resource.ParseQuantity(b)
	if errA != nil || errB != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}

// GPUTypeEqual compares GPU type names as the catalog does, without case.
func GPUTypeEqual(a, b string) bool { return strings.EqualFold(a, b) }
