package worker

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Bounds on the text of a quantity. Kubernetes caps every quantity at
// 2^63-1 anyway, but parsing and comparing one with a huge decimal exponent
// ("1e100000000", "1e-60000000") takes minutes: such text is refused before
// it reaches the parser.
const (
	maxQuantityLength   = 64
	maxQuantityExponent = 30
)

var decimalExponent = regexp.MustCompile(`[eE]([+-]?[0-9]+)$`)

// ParseQuantity parses a Kubernetes quantity whose magnitude is at most
// 2^63-1 and whose text is short, quickly whatever the text.
func ParseQuantity(text string) (resource.Quantity, error) {
	if len(text) > maxQuantityLength {
		return resource.Quantity{}, fmt.Errorf("longer than %d characters", maxQuantityLength)
	}
	if m := decimalExponent.FindStringSubmatch(text); m != nil {
		exp, err := strconv.Atoi(strings.TrimPrefix(m[1], "+"))
		if err != nil || exp > maxQuantityExponent || exp < -maxQuantityExponent {
			return resource.Quantity{}, fmt.Errorf("the exponent %s is outside -%d..%d", m[1], maxQuantityExponent, maxQuantityExponent)
		}
	}
	q, err := resource.ParseQuantity(text)
	if err != nil {
		return q, err
	}
	if f := q.AsApproximateFloat64(); math.Abs(f) > math.MaxInt64 {
		return resource.Quantity{}, fmt.Errorf("larger than the largest quantity, 2^63-1")
	}
	return q, nil
}

// QuantityEqual compares two quantities by value ("1Gi" = "1024Mi",
// "0.5" = "500m"); unparsable ones compare as text.
func QuantityEqual(a, b string) bool {
	if a == b {
		return true
	}
	qa, errA := ParseQuantity(a)
	qb, errB := ParseQuantity(b)
	if errA != nil || errB != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}

// GPUTypeEqual compares GPU type names as the catalog does, without case.
func GPUTypeEqual(a, b string) bool { return strings.EqualFold(a, b) }
