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
// configuration back. It holds env's keys only, never their values, which
// anyone who may read the object's metadata could otherwise read: a
// backend reads the values back from the container's own environment.
func EncodeCanonical(s *Spec) (string, error) {
	stored := *s
	stored.Env = envKeysOnly(s.Env)
	b, err := json.Marshal(canonicalEnvelope{Version: canonicalVersion, Spec: stored})
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

// envKeysOnly keeps env's keys with empty values (nil stays nil).
func envKeysOnly(env map[string]string) map[string]string {
	if env == nil {
		return nil
	}
	out := make(map[string]string, len(env))
	for k := range env {
		out[k] = ""
	}
	return out
}

// LiveEnv gives each key that declared holds its value in live, the
// environment the container really has; a key gone from live is gone
// here too. Keys only live has (the image's own, secret_env_wo's) are
// left out.
func LiveEnv(declared, live map[string]string) map[string]string {
	if declared == nil {
		return nil
	}
	out := make(map[string]string, len(declared))
	for k := range declared {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	return out
}
