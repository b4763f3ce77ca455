package worker

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Ref names one worker on one backend.
type Ref struct {
	Backend   Backend
	Namespace string
	Name      string
}

// ID is the Terraform id: kubernetes/<namespace>/<name> or docker/<name>.
func (r Ref) ID() string {
	if r.Backend == BackendKubernetes {
		return fmt.Sprintf("%s/%s/%s", r.Backend, r.Namespace, r.Name)
	}
	return fmt.Sprintf("%s/%s", r.Backend, r.Name)
}

// RefOf is the reference of the worker a spec declares.
func RefOf(s *Spec) Ref {
	r := Ref{Backend: s.Backend, Name: s.Name}
	if s.Backend == BackendKubernetes {
		r.Namespace = s.Namespace
	}
	return r
}

// ParseID reads kubernetes/<namespace>/<name>, <namespace>/<name> (a
// Kubernetes worker) or docker/<name>. The first part of a two-part id is
// never a namespace named like a backend: docker/<name> is always a Docker
// worker, and a worker in the namespace docker or kubernetes is written
// kubernetes/<namespace>/<name>.
func ParseID(id string) (Ref, error) {
	parts := strings.Split(id, "/")
	var ref Ref
	switch {
	case len(parts) == 2 && parts[0] == string(BackendDocker):
		ref = Ref{Backend: BackendDocker, Name: parts[1]}
	case len(parts) == 2 && parts[0] == string(BackendKubernetes):
		return Ref{}, fmt.Errorf("id %q names no namespace: write kubernetes/<namespace>/<name>, e.g. kubernetes/%s/%s; a worker in the namespace %q is kubernetes/%s/%s",
			id, DefaultNamespace, parts[1], parts[0], parts[0], parts[1])
	case len(parts) == 3 && parts[0] == string(BackendKubernetes):
		ref = Ref{Backend: BackendKubernetes, Namespace: parts[1], Name: parts[2]}
	case len(parts) == 2:
		ref = Ref{Backend: BackendKubernetes, Namespace: parts[0], Name: parts[1]}
	default:
		return Ref{}, fmt.Errorf("id %q is not of the form kubernetes/<namespace>/<name>, <namespace>/<name> or docker/<name> "+
			"(docker/<name> is always a Docker worker: a worker in the namespace docker or kubernetes is written kubernetes/<namespace>/<name>)", id)
	}
	if errs := validation.IsDNS1123Label(ref.Name); len(errs) > 0 {
		return Ref{}, fmt.Errorf("id %q: name %q: %s", id, ref.Name, strings.Join(errs, "; "))
	}
	if ref.Backend == BackendKubernetes {
		if errs := validation.IsDNS1123Label(ref.Namespace); len(errs) > 0 {
			return Ref{}, fmt.Errorf("id %q: namespace %q: %s", id, ref.Namespace, strings.Join(errs, "; "))
		}
	}
	return ref, nil
}
