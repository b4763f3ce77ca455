package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeBaseline does with client-go what the provider must do at least:
// create the same pod and watch it until Running and ready; one GET to read;
// delete it (by UID, background propagation, its own grace period) and
// watch until it is gone. The client is not rate limited on its side, so the
// baseline runs at the API server's own pace.
type kubeBaseline struct {
	client    kubernetes.Interface
	namespace string
}

func newKubeBaseline(o options) (*kubeBaseline, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", o.kubeconfig, err)
	}
	cfg.QPS = -1
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &kubeBaseline{client: client, namespace: o.namespace}, nil
}

func (b *kubeBaseline) Close() {}

func ptr[T any](v T) *T { return &v }

// pod is what internal/backend/kubernetes/pod.go builds for the bench's
// worker.
func (b *kubeBaseline) pod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: b.namespace,
			Labels: map[string]string{
				"app.kubernetes.io/managed-by": "hodei",
				"hodei.io/worker":              name,
			},
			Annotations: map[string]string{"hodei.io/spec": canonicalSpec(name, "kubernetes", kubeImage)},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:    "worker",
				Image:   kubeImage,
				Command: workerCommand,
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse(workerCPU),
					corev1.ResourceMemory: resource.MustParse(workerMem),
				}},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			RestartPolicy: corev1.RestartPolicyAlways,
			SecurityContext: &corev1.PodSecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		},
	}
}

func (b *kubeBaseline) Create(ctx context.Context, name string) error {
	_, err := b.create(ctx, b.pod(name), runningAndReady)
	return err
}

// create creates pod and watches it until done says so; it returns the pod
// as the API server stored it.
func (b *kubeBaseline) create(ctx context.Context, pod *corev1.Pod, done func(*corev1.Pod) bool) (*corev1.Pod, error) {
	created, err := b.client.CoreV1().Pods(b.namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return created, b.watch(ctx, created, done)
}

// runningAndReady is the provider's default wait_for = "running" for a
// worker without a readiness probe: the pod Running, its container ready.
func runningAndReady(p *corev1.Pod) bool {
	if p == nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, s := range p.Status.ContainerStatuses {
		if s.Name == "worker" {
			return s.Ready
		}
	}
	return false
}

func (b *kubeBaseline) Read(ctx context.Context, name string) error {
	_, err := b.client.CoreV1().Pods(b.namespace).Get(ctx, name, metav1.GetOptions{})
	return err
}

func (b *kubeBaseline) Delete(ctx context.Context, name string) error {
	pods := b.client.CoreV1().Pods(b.namespace)
	// The UID precondition needs the pod; the refresh that precedes a
	// terraform destroy has it, so one GET is part of the baseline too.
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = pods.Delete(ctx, name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &pod.UID},
		PropagationPolicy: ptr(metav1.DeletePropagationBackground),
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return b.watch(ctx, pod, func(p *corev1.Pod) bool { return p == nil })
}

// watch is one watch from pod's resource version until done says so; nil
// is the pod gone.
func (b *kubeBaseline) watch(ctx context.Context, pod *corev1.Pod, done func(*corev1.Pod) bool) error {
	w, err := b.client.CoreV1().Pods(pod.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
		ResourceVersion: pod.ResourceVersion,
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for event := range w.ResultChan() {
		switch event.Type {
		case watch.Error:
			return apierrors.FromObject(event.Object)
		case watch.Deleted:
			if done(nil) {
				return nil
			}
		case watch.Added, watch.Modified:
			if p, ok := event.Object.(*corev1.Pod); ok && done(p) {
				return nil
			}
		}
	}
	return fmt.Errorf("watch of pod %s closed early", pod.Name)
}
