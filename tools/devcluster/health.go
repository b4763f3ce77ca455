package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// componentHealthz asks a component's health endpoint, which every component
// serves to anonymous clients, over TLS verified with the cluster CA.
type componentHealthz struct {
	name   string
	url    string
	client *http.Client
}

func newComponentHealthz(name, url string, caPEM []byte) *componentHealthz {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &componentHealthz{name: name, url: url, client: &http.Client{Transport: transport, Timeout: 2 * time.Second}}
}

func (h *componentHealthz) check(ctx context.Context) error {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return err
	}
	response, err := h.client.Do(request)
	if err != nil {
		return fmt.Errorf("%s: %w", h.name, err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s answers %s", h.name, h.url, response.Status)
	}
	return nil
}

// apiserverReady checks kube-apiserver's /readyz, which covers its storage
// and its post-start hooks (RBAC bootstrap roles, priority classes, ...).
func apiserverReady(ctx context.Context, client kubernetes.Interface) error {
	status := 0
	result := client.CoreV1().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&status)
	if status != http.StatusOK {
		return fmt.Errorf("kube-apiserver: /readyz answers %d: %w", status, result.Error())
	}
	return nil
}

// defaultServiceAccountExists shows the controller manager at work: pods
// cannot be admitted before the service account controller made "default".
func defaultServiceAccountExists(ctx context.Context, client kubernetes.Interface) error {
	if _, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return fmt.Errorf("kube-controller-manager: service account default/default: %w", err)
	}
	return nil
}

// nodesReady checks that every node of the topology is Ready and carries
// exactly the taints it declares.
func nodesReady(ctx context.Context, client kubernetes.Interface, topology *Topology) error {
	for _, spec := range topology.Nodes {
		node, err := client.CoreV1().Nodes().Get(ctx, spec.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("node %s: %w", spec.Name, err)
		}
		if !nodeIsReady(node) {
			return fmt.Errorf("node %s: not Ready", spec.Name)
		}
		if !sameTaints(node.Spec.Taints, spec.Taints) {
			return fmt.Errorf("node %s: taints %v, declared %v", spec.Name, node.Spec.Taints, spec.Taints)
		}
	}
	return nil
}

func nodeIsReady(node *corev1.Node) bool {
	for _, condition := range node.Status.Conditions {
		if condition.Type == corev1.NodeReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}

// sameTaints compares taints by key, value and effect, in any order.
func sameTaints(actual, declared []corev1.Taint) bool {
	if len(actual) != len(declared) {
		return false
	}
	for _, taint := range declared {
		if !slices.ContainsFunc(actual, func(t corev1.Taint) bool {
			return t.Key == taint.Key && t.Value == taint.Value && t.Effect == taint.Effect
		}) {
			return false
		}
	}
	return true
}
