package worker

import (
	"encoding/json"
	"fmt"
)

// canonicalVersion guards the stored form: a reader refuses forms it does not
// know instead of guessing.
const canonicalVersion = 1

type canonicalEnvelope struct {
	Version int  `json:"v"`
	Spec    Spec `json:"spec"`
}

// EncodeCanonical is the form stored on each object (annotation on a pod,
// label on a container), from which import and drift detection read the
// configuration back.
func EncodeCanonical(s *Spec) (string, error) {
	b, err := json.Marshal(canonicalEnvelope{Version: canonicalVersion, Spec: *s})
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// DecodeCanonical reads a stored form back. A damaged or foreign value is an
// error, never a panic.
func DecodeCanonical(text string) (*Spec, error) {
	var env canonicalEnvelope
	if err := json.Unmarshal([]byte(text), &env); err != nil {
		return nil, fmt.Errorf("the %s value is not a valid worker spec: %w", AnnotationSpec, err)
	}
	if env.Version != canonicalVersion {
		return nil, fmt.Errorf("the %s value has version %d; this provider reads version %d", AnnotationSpec, env.Version, canonicalVersion)
	}
	if env.Spec.Name == "" || env.Spec.Backend == "" {
		return nil, fmt.Errorf("the %s value lacks the worker's name or backend", AnnotationSpec)
	}
	return &env.Spec, nil
}
