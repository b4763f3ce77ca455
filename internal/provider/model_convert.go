package provider

import (
	"context"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Conversions between the model structs and framework object values, on the
// hot path of every request. The framework's own (tfsdk Get and Set,
// ObjectValue.As, ObjectValueFrom) walk the struct by reflection and compile
// a regular expression for every field's tag on every call
// (isValidFieldName in terraform-plugin-framework v1.19.0's
// internal/reflect): with the worker's 46 attributes and its nested blocks,
// that was most of what the provider's own code cost a request. Every model
// field is an attr.Value of exactly the type the schema makes, so a field is
// set from its attribute's value as it is, with the tags read once per
// struct type. Whatever does not fit goes through the framework's
// conversion, which reports it as before.

// modelField is a model struct field that holds the attribute name.
type modelField struct {
	name  string
	index int
}

// modelFieldsByType caches each model struct type's fields: immutable once
// stored, like the types themselves.
var modelFieldsByType sync.Map // reflect.Type -> []modelField

func modelFields(t reflect.Type) []modelField {
	if f, ok := modelFieldsByType.Load(t); ok {
		if fields, ok := f.([]modelField); ok {
			return fields
		}
	}
	var out []modelField
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("tfsdk"); name != "" && name != "-" {
			out = append(out, modelField{name: name, index: i})
		}
	}
	modelFieldsByType.Store(t, out)
	return out
}

// decodeObject fills *out from a known object's attributes.
func decodeObject[T any](ctx context.Context, obj basetypes.ObjectValue, out *T) diag.Diagnostics {
	attrs := obj.Attributes()
	rv := reflect.ValueOf(out).Elem()
	fields := modelFields(rv.Type())
	if len(fields) == len(attrs) && setFields(rv, fields, attrs) {
		return nil
	}
	var zero T
	*out = zero
	return obj.As(ctx, out, basetypes.ObjectAsOptions{})
}

func setFields(rv reflect.Value, fields []modelField, attrs map[string]attr.Value) bool {
	for _, f := range fields {
		v, ok := attrs[f.name]
		if !ok || v == nil {
			return false
		}
		value, field := reflect.ValueOf(v), rv.Field(f.index)
		if value.Type() != field.Type() {
			return false
		}
		field.Set(value)
	}
	return true
}

// encodeObject is the object value of *in, of the given attribute types.
func encodeObject[T any](ctx context.Context, attrTypes map[string]attr.Type, in *T) (basetypes.ObjectValue, diag.Diagnostics) {
	rv := reflect.ValueOf(in).Elem()
	fields := modelFields(rv.Type())
	attrs := make(map[string]attr.Value, len(fields))
	for _, f := range fields {
		v, _ := rv.Field(f.index).Interface().(attr.Value)
		attrs[f.name] = v
	}
	if len(attrs) == len(attrTypes) {
		if obj, diags := types.ObjectValue(attrTypes, attrs); !diags.HasError() {
			return obj, nil
		}
	}
	return types.ObjectValueFrom(ctx, attrTypes, in)
}

// workerType is hodei_worker's object type, read from its schema once. It is
// set in init: the schema's plan modifiers decode workers with getWorker,
// which a package-level initializer could not refer to without a cycle.
var workerType func() basetypes.ObjectType

func init() {
	workerType = sync.OnceValue(func() basetypes.ObjectType {
		t, ok := workerSchema(context.Background()).Type().(basetypes.ObjectType)
		if !ok {
			panic("hodei_worker's schema is not an object type")
		}
		return t
	})
}

// getWorker decodes a worker's configuration, plan or state, as the
// framework's Get does.
func getWorker(ctx context.Context, raw tftypes.Value, out *workerModel) diag.Diagnostics {
	var diags diag.Diagnostics
	v, err := workerType().ValueFromTerraform(ctx, raw)
	if err != nil {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered converting the worker's value. This is always an error in the provider: "+err.Error())
		return diags
	}
	obj, ok := v.(basetypes.ObjectValue)
	if !ok || obj.IsNull() || obj.IsUnknown() {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered converting the worker's value. This is always an error in the provider: the value is null or unknown")
		return diags
	}
	return decodeObject(ctx, obj, out)
}

// setWorker encodes a worker into a plan's or state's raw value, as the
// framework's Set does.
func setWorker(ctx context.Context, raw *tftypes.Value, in *workerModel) diag.Diagnostics {
	obj, diags := encodeObject(ctx, workerType().AttrTypes, in)
	if diags.HasError() {
		return diags
	}
	v, err := obj.ToTerraformValue(ctx)
	if err != nil {
		diags.AddError("Value Conversion Error", "An unexpected error was encountered converting the worker's value. This is always an error in the provider: "+err.Error())
		return diags
	}
	*raw = v
	return diags
}
