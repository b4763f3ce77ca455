package worker

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxDefaultMode is the largest file mode a secret or config_map volume
// takes (0777).
const MaxDefaultMode = 0o777

// checkEnvReferences checks env_from, secret_env, config_env and the keys
// of secret_env_wo, and that no variable is declared twice across env,
// secret_env, config_env and secret_env_wo (Kubernetes would silently keep
// the last one).
func checkEnvReferences(ps *Problems, s *Spec) {
	declared := map[string]string{}
	declare := func(p Path, name, attr string) {
		if errs := validation.IsEnvVarName(name); len(errs) > 0 {
			ps.errorf(p, "Invalid environment variable name", "%q: %s.", name, strings.Join(errs, "; "))
			return
		}
		if first, dup := declared[name]; dup {
			ps.errorf(p, "Duplicate environment variable", "%q is already set by %s; set each variable once.", name, first)
			return
		}
		declared[name] = attr
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		declared[k] = "env"
	}
	for i, e := range s.EnvFrom {
		base := Path{"env_from", i}
		switch {
		case (e.SecretRef == "") == (e.ConfigMapRef == ""):
			ps.errorf(base, "Invalid env_from", "give exactly one of secret_ref or config_map_ref.")
		case e.SecretRef != "":
			checkDNSSubdomain(ps, base.Child("secret_ref"), e.SecretRef, "Secret name")
		default:
			checkDNSSubdomain(ps, base.Child("config_map_ref"), e.ConfigMapRef, "ConfigMap name")
		}
		if e.Prefix != "" {
			if errs := validation.IsEnvVarName(e.Prefix); len(errs) > 0 {
				ps.errorf(base.Child("prefix"), "Invalid prefix", "%q must itself be a valid environment variable name: %s.", e.Prefix, strings.Join(errs, "; "))
			}
		}
	}
	for _, block := range []struct {
		attr, source, what string
		refs               []KeyEnv
	}{
		{"secret_env", "secret", "Secret", s.SecretEnv},
		{"config_env", "config_map", "ConfigMap", s.ConfigEnv},
	} {
		for i, e := range block.refs {
			base := Path{block.attr, i}
			declare(base.Child("name"), e.Name, block.attr)
			checkDNSSubdomain(ps, base.Child(block.source), e.Source, block.what+" name")
			checkKey(ps, base.Child("key"), e.Key)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.SecretEnvWO)) {
		declare(Path{"secret_env_wo"}, k, "secret_env_wo")
	}
}

// checkKey checks a Secret or ConfigMap data key.
func checkKey(ps *Problems, p Path, key string) {
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		ps.errorf(p, "Invalid key", "%q: %s.", key, strings.Join(errs, "; "))
	}
}

// checkKeysVolume checks a secret or config_map volume source and counts
// the sources it sets.
func checkKeysVolume(ps *Problems, base Path, v Volume) int {
	sources := 0
	for _, src := range []struct {
		attr, what string
		keys       *KeysSource
	}{{"secret", "Secret", v.Secret}, {"config_map", "ConfigMap", v.ConfigMap}} {
		if src.keys == nil {
			continue
		}
		sources++
		p := base.Child(src.attr)
		if src.keys.Name == "" {
			ps.errorf(p.Child("name"), "Missing name", "%s needs name, the %s to mount.", src.attr, src.what)
		} else {
			checkDNSSubdomain(ps, p.Child("name"), src.keys.Name, src.what+" name")
		}
		if src.keys.DefaultMode != "" {
			if _, err := ParseFileMode(src.keys.DefaultMode); err != nil {
				ps.errorf(p.Child("default_mode"), "Invalid file mode", "%q %s.", src.keys.DefaultMode, err)
			}
		}
		paths := map[string]bool{}
		for j, item := range src.keys.Items {
			ip := p.Child("items", j)
			checkKey(ps, ip.Child("key"), item.Key)
			switch {
			case item.Path == "" || path.IsAbs(item.Path) || slices.Contains(strings.Split(item.Path, "/"), ".."):
				ps.errorf(ip.Child("path"), "Invalid path", "%q must be a non-empty relative path without \"..\".", item.Path)
			case paths[item.Path]:
				ps.errorf(ip.Child("path"), "Duplicate path", "%q is already the path of another item.", item.Path)
			}
			paths[item.Path] = true
		}
	}
	return sources
}

type fileModeError string

func (e fileModeError) Error() string { return string(e) }

// ParseFileMode reads an octal file mode such as "0440" within 0..0777.
func ParseFileMode(text string) (int32, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(text, "0o"), 8, 32)
	if err != nil {
		return 0, fileModeError("is not an octal file mode; write it as a string of octal digits, e.g. \"0440\"")
	}
	if n > MaxDefaultMode {
		return 0, fileModeError("is above 0777")
	}
	return int32(n), nil
}
