package worker

// EnvFrom exposes every key of a Kubernetes Secret or ConfigMap as an
// environment variable; exactly one of SecretRef and ConfigMapRef is set.
type EnvFrom struct {
	SecretRef    string `json:"secret_ref,omitempty"`
	ConfigMapRef string `json:"config_map_ref,omitempty"`
	Prefix       string `json:"prefix,omitempty"`
	Optional     bool   `json:"optional,omitempty"`
}

// KeyEnv is one environment variable whose value is one key of a Secret
// (secret_env) or ConfigMap (config_env); Source names that object.
type KeyEnv struct {
	Name     string `json:"name"`
	Source   string `json:"source"`
	Key      string `json:"key"`
	Optional bool   `json:"optional,omitempty"`
}

// KeysSource mounts a Secret or ConfigMap as files. DefaultMode is octal
// as the user wrote it ("0440"); empty means Kubernetes's default (0644).
type KeysSource struct {
	Name        string    `json:"name"`
	Items       []KeyPath `json:"items,omitempty"`
	DefaultMode string    `json:"default_mode,omitempty"`
}

// KeyPath puts one key at a relative path inside the volume.
type KeyPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

// OwnedSecretName is the Secret that carries a Kubernetes worker's
// write-only environment (secret_env_wo).
func OwnedSecretName(worker string) string { return worker + "-hodei-env" }

// KubernetesReferences lists the attributes that name Kubernetes Secrets
// or ConfigMaps, which a Docker worker cannot honour.
func (s *Spec) KubernetesReferences() []Path {
	var out []Path
	if len(s.EnvFrom) > 0 {
		out = append(out, Path{"env_from"})
	}
	if len(s.SecretEnv) > 0 {
		out = append(out, Path{"secret_env"})
	}
	if len(s.ConfigEnv) > 0 {
		out = append(out, Path{"config_env"})
	}
	for i, v := range s.Volumes {
		if v.Secret != nil {
			out = append(out, Path{"volume", i, "secret"})
		}
		if v.ConfigMap != nil {
			out = append(out, Path{"volume", i, "config_map"})
		}
	}
	return out
}
