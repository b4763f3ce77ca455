package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// semanticKind says how two spellings of a string attribute compare.
type semanticKind string

const (
	kindQuantity semanticKind = "quantity" // "1Gi" = "1024Mi", "0.5" = "500m"
	kindGPUType  semanticKind = "gpu_type" // "A100" = "a100"
	kindDuration semanticKind = "duration" // "1m" = "60s"
)

func (k semanticKind) equal(a, b string) bool {
	switch k {
	case kindQuantity:
		return worker.QuantityEqual(a, b)
	case kindGPUType:
		return worker.GPUTypeEqual(a, b)
	case kindDuration:
		return worker.DurationEqual(a, b)
	}
	return a == b
}

var (
	quantityType = semanticStringType{kind: kindQuantity}
	gpuTypeType  = semanticStringType{kind: kindGPUType}
	durationType = semanticStringType{kind: kindDuration}
)

// semanticStringType is a string whose respellings are no change: the
// framework keeps the prior spelling when the new one means the same.
type semanticStringType struct {
	basetypes.StringType
	kind semanticKind
}

var _ basetypes.StringTypable = semanticStringType{}

func (t semanticStringType) Equal(o attr.Type) bool {
	other, ok := o.(semanticStringType)
	return ok && other.kind == t.kind
}

func (t semanticStringType) String() string { return fmt.Sprintf("semanticStringType(%s)", t.kind) }

func (t semanticStringType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return semanticStringValue{StringValue: in, kind: t.kind}, nil
}

func (t semanticStringType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	return semanticStringValue{StringValue: s, kind: t.kind}, nil
}

func (t semanticStringType) ValueType(context.Context) attr.Value {
	return semanticStringValue{kind: t.kind}
}

// semanticStringValue is a value of semanticStringType.
type semanticStringValue struct {
	basetypes.StringValue
	kind semanticKind
}

var _ basetypes.StringValuableWithSemanticEquals = semanticStringValue{}

func (v semanticStringValue) Equal(o attr.Value) bool {
	other, ok := o.(semanticStringValue)
	return ok && other.kind == v.kind && v.StringValue.Equal(other.StringValue)
}

func (v semanticStringValue) Type(context.Context) attr.Type { return semanticStringType{kind: v.kind} }

func (v semanticStringValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	other, ok := newValuable.(semanticStringValue)
	if !ok || other.kind != v.kind || other.IsNull() || other.IsUnknown() || v.IsNull() || v.IsUnknown() {
		return false, nil
	}
	return v.kind.equal(v.ValueString(), other.ValueString()), nil
}

func quantityValue(s string) semanticStringValue {
	return semanticStringValue{StringValue: optString(s), kind: kindQuantity}
}

func gpuTypeValue(s string) semanticStringValue {
	return semanticStringValue{StringValue: basetypes.NewStringValue(s), kind: kindGPUType}
}

func durationValue(s string) semanticStringValue {
	return semanticStringValue{StringValue: optString(s), kind: kindDuration}
}
