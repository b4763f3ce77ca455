package kubernetes

import (
	"context"
	"errors"
	"fmt"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// Options are the provider settings that shape pods.
type Options struct {
	// GPUNodeLabelKey is the node label that GPU workers select on;
	// worker.DefaultGPUNodeLabel when empty.
	GPUNodeLabelKey string
	// Catalog resolves GPU types; the built-in catalog when nil.
	Catalog *worker.Catalog
}

func (o Options) withDefaults() Options {
	if o.GPUNodeLabelKey == "" {
		o.GPUNodeLabelKey = worker.DefaultGPUNodeLabel
	}
	if o.Catalog == nil {
		o.Catalog = worker.DefaultCatalog()
	}
	return o
}

// Driver runs workers as pods. It is safe for concurrent use.
type Driver struct {
	client kubernetes.Interface
	host   string
	opts   Options
	// nodes are listed once, for the plan's placement checks.
	nodes onceList[corev1.Node]
	// slices are the ResourceSlices, listed once for the plan's check of
	// DRA workers.
	slices onceList[resourcev1.ResourceSlice]
	// dryRuns are the plan's server-side dry-runs, shared by pods that
	// differ only in their name.
	dryRuns sharedDryRuns
}

var _ worker.Driver = (*Driver)(nil)

// NewDriver runs workers through client; host is the API server's address,
// named in the error when it cannot be reached.
func NewDriver(client kubernetes.Interface, host string, opts Options) *Driver {
	return &Driver{client: client, host: host, opts: opts.withDefaults()}
}

// Check runs at plan time, before any client exists. It finds nothing to
// refuse except a node selector that contradicts the GPU type: Kubernetes
// honours every other part of a spec.
func Check(spec *worker.Spec, opts Options) worker.Problems {
	opts = opts.withDefaults()
	if spec.GPU == nil || spec.Scheduling == nil || spec.GPU.DRA() {
		// A DRA worker's GPU selects no node label.
		return nil
	}
	gpuType, ok := opts.Catalog.Lookup(spec.GPU.Type)
	if !ok {
		return nil
	}
	value, set := spec.Scheduling.NodeSelector[opts.GPUNodeLabelKey]
	if !set || value == gpuType.NodeLabel {
		return nil
	}
	return worker.Problems{{
		Path:    worker.Path{"scheduling", "node_selector"},
		Summary: "Node selector contradicts the GPU type",
		Detail:  gpuSelectorConflict(spec, opts.GPUNodeLabelKey, value, gpuType.NodeLabel).Error() + ".",
	}}
}

// Create makes the worker's pod and waits as waitFor says. A pod of the
// same name is never deleted: one that is not the provider's fails the
// create at once, one of the provider's is waited for (awaitNameFree).
func (d *Driver) Create(ctx context.Context, spec *worker.Spec, waitFor worker.WaitFor) (*worker.Observed, error) {
	pod, err := buildPod(spec, d.opts)
	if err != nil {
		return nil, err
	}
	template, err := buildClaimTemplate(spec, d.opts)
	if err != nil {
		return nil, err
	}
	// A worker with a Secret or a claim template makes them, named after
	// the pod, only once no pod holds the name. A pod alone is created at
	// once and meets a name in use when the API server refuses it: one
	// request a worker fewer (issue 16).
	alone := len(spec.SecretEnvWO) == 0 && template == nil
	if !alone {
		if err := d.awaitNameFree(ctx, pod.Namespace, pod.Name); err != nil {
			return nil, err
		}
	}
	var secret *corev1.Secret
	if len(spec.SecretEnvWO) > 0 {
		if secret, err = d.createOwnedSecret(ctx, spec); err != nil {
			return nil, err
		}
	}
	if template != nil {
		if template, err = d.createClaimTemplate(ctx, template, spec); err != nil {
			return nil, errors.Join(err, d.removeFailedSecret(ctx, secret))
		}
	}
	// removeOwned removes what the create made besides the pod.
	removeOwned := func() error {
		return errors.Join(d.removeFailedSecret(ctx, secret), d.removeFailedClaimTemplate(ctx, template))
	}
	created, err := d.postPod(ctx, pod)
	if apierrors.IsAlreadyExists(err) && alone {
		if err := d.awaitNameFree(ctx, pod.Namespace, pod.Name); err != nil {
			return nil, err
		}
		created, err = d.postPod(ctx, pod)
	}
	if apierrors.IsAlreadyExists(err) {
		// Another create of this name came in between.
		if taken := d.nameTaken(ctx, pod.Namespace, pod.Name); taken != nil {
			return nil, taken
		}
	}
	if err != nil {
		return nil, errors.Join(d.apiError(fmt.Sprintf("creating pod %s/%s", pod.Namespace, pod.Name), err), removeOwned())
	}
	if secret != nil {
		err = d.adoptSecret(ctx, secret, created)
	}
	if template != nil && err == nil {
		err = d.adoptClaimTemplate(ctx, template, created)
	}
	var live *corev1.Pod
	if err == nil {
		live, err = d.waitFor(ctx, created, waitFor)
	}
	if err != nil {
		if cleanupErr := d.removeFailed(ctx, created); cleanupErr != nil {
			return nil, errors.Join(err, cleanupErr)
		}
		return nil, errors.Join(err, removeOwned())
	}
	return d.observe(ctx, live)
}

// postPod creates the pod. A create cancelled in flight may still make the
// pod, which then belongs to nobody: the POST runs to its answer on a
// bounded context of its own, and a cancel that comes meanwhile ends the
// wait after it, which removes the pod.
func (d *Driver) postPod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	postCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	return d.client.CoreV1().Pods(pod.Namespace).Create(postCtx, pod, metav1.CreateOptions{})
}

// observe is what the pod shows, and what its claim was allocated.
func (d *Driver) observe(ctx context.Context, pod *corev1.Pod) (*worker.Observed, error) {
	observed, err := observe(pod)
	if err != nil {
		return nil, err
	}
	if err := d.readDevices(ctx, pod, observed); err != nil {
		return nil, err
	}
	return observed, nil
}

// getOwned reads the worker's pod: nil, nil when there is none, a
// NotOwnedError when the pod of that name is not the provider's.
func (d *Driver) getOwned(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	pod, err := d.client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, d.apiError(fmt.Sprintf("reading pod %s/%s", namespace, name), err)
	case !worker.IsOwned(pod.Labels, name):
		return nil, notOwned(pod)
	}
	return pod, nil
}

// awaitNameFree makes sure that no pod holds the worker's name. A pod of the
// provider's with that name may belong to another Terraform state or
// resource address, or be on its way out through that instance's destroy (a
// resource address renamed without a moved block destroys the old instance
// while it creates the new one): it is never deleted here. Create watches
// it within worker.NameWaitWindow and then fails with a *worker.ExistsError
// that says how to import or remove it.
func (d *Driver) awaitNameFree(ctx context.Context, namespace, name string) error {
	existing, err := d.getOwned(ctx, namespace, name)
	if existing == nil || err != nil {
		return err
	}
	window := worker.NameWaitWindow(ctx)
	waitCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	err = d.watchPod(waitCtx, existing, func(current *corev1.Pod) (bool, error) { return current == nil, nil })
	switch {
	case err == nil:
		return nil
	case waitCtx.Err() == nil:
		return err
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("waiting for pod %s/%s (UID %s) to go away: %w", namespace, name, existing.UID, ctx.Err())
	}
	return &worker.ExistsError{Ref: refOf(existing), Kind: "pod", UID: string(existing.UID), Waited: window}
}

// nameTaken is the error for a pod of the worker's name that a create
// conflicts with, nil when none is found.
func (d *Driver) nameTaken(ctx context.Context, namespace, name string) error {
	existing, err := d.getOwned(ctx, namespace, name)
	if existing == nil || err != nil {
		return err
	}
	return &worker.ExistsError{Ref: refOf(existing), Kind: "pod", UID: string(existing.UID)}
}

// removeFailed deletes the pod of a failed create at once. ctx may already
// be expired, so it works on a short context of its own.
func (d *Driver) removeFailed(ctx context.Context, pod *corev1.Pod) error {
	cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := d.deleteAndWait(cleanupCtx, pod, ptr(int64(0))); err != nil && !errors.Is(err, errReplaced) {
		return fmt.Errorf("the failed pod %s/%s could not be removed; delete it by hand: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// Read returns what the pod shows, in one GET, and for a DRA worker what
// its claim was allocated, in a second.
func (d *Driver) Read(ctx context.Context, ref worker.Ref) (*worker.Observed, error) {
	pod, err := d.getOwned(ctx, ref.Namespace, ref.Name)
	if pod == nil || err != nil {
		return nil, err
	}
	return d.observe(ctx, pod)
}

// Update patches labels and annotations, the only part of a pod that
// changes in place; the pod keeps its UID. A pod of the worker's name whose
// UID is not uid is refused, and the patch itself is pinned to the UID: the
// API server refuses it when the pod was replaced after the read.
func (d *Driver) Update(ctx context.Context, spec *worker.Spec, uid string) (*worker.Observed, error) {
	namespace := namespaceOf(spec)
	live, err := d.getOwned(ctx, namespace, spec.Name)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return nil, fmt.Errorf("pod %s/%s is gone; a refresh will plan to create it again", namespace, spec.Name)
	}
	if err := worker.CheckIdentity(refOf(live), "pod", uid, string(live.UID)); err != nil {
		return nil, err
	}
	patch, err := metadataPatch(live, spec)
	if err != nil {
		return nil, err
	}
	patched, err := d.client.CoreV1().Pods(namespace).Patch(ctx, spec.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("pod %s/%s is gone; a refresh will plan to create it again", namespace, spec.Name)
	}
	if err != nil && uidMismatch(err) {
		// Replaced between the read and the patch.
		if current, getErr := d.getOwned(ctx, namespace, spec.Name); getErr == nil && current != nil {
			if replaced := worker.CheckIdentity(refOf(current), "pod", string(live.UID), string(current.UID)); replaced != nil {
				return nil, replaced
			}
		}
	}
	if err != nil {
		return nil, d.apiError(fmt.Sprintf("patching the labels and annotations of pod %s/%s", namespace, spec.Name), err)
	}
	return d.observe(ctx, patched)
}

// Delete stops the pod with its own grace period and waits until it is
// gone. A pod of the worker's name whose UID is not uid is left alone; the
// delete itself carries the UID as a precondition.
func (d *Driver) Delete(ctx context.Context, ref worker.Ref, uid string) error {
	pod, err := d.getOwned(ctx, ref.Namespace, ref.Name)
	if pod == nil || err != nil {
		return err
	}
	if err := worker.CheckIdentity(ref, "pod", uid, string(pod.UID)); err != nil {
		return err
	}
	err = d.deleteAndWait(ctx, pod, nil)
	if err == nil && readsOwnedSecret(pod) {
		err = d.deleteOwnedSecret(ctx, ref.Namespace, ref.Name, pod.UID)
	}
	if err == nil && claimsDevices(pod) {
		err = d.deleteClaimTemplate(ctx, ref.Namespace, ref.Name, pod.UID)
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, errReplaced) {
		// Replaced between the read and the delete: say so if the other
		// pod is still there.
		if current, getErr := d.getOwned(ctx, ref.Namespace, ref.Name); getErr == nil && current != nil {
			return worker.CheckIdentity(ref, "pod", string(pod.UID), string(current.UID))
		}
		return nil
	}
	return err
}

// errReplaced is deleteAndWait's answer when the UID precondition failed:
// the pod is gone, and another of its name exists.
var errReplaced = errors.New("the pod was replaced by another of the same name")

// deleteAndWait deletes exactly this pod (by UID) and watches until it is
// gone. A nil grace keeps the pod's own grace period.
func (d *Driver) deleteAndWait(ctx context.Context, pod *corev1.Pod, grace *int64) error {
	var retry outage
	var err error
	for {
		err = d.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: grace,
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
			PropagationPolicy:  ptr(metav1.DeletePropagationBackground),
		})
		// While the API server is out of reach, try again until ctx ends.
		if err == nil || !retry.wait(ctx, err) {
			break
		}
	}
	// A conflict on the UID precondition means this pod is gone and another
	// took its name.
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		return errReplaced
	}
	if err != nil {
		return d.apiError(fmt.Sprintf("deleting pod %s/%s", pod.Namespace, pod.Name), retry.cause(err))
	}
	return d.waitGone(ctx, pod)
}

func notOwned(pod *corev1.Pod) error {
	return &worker.NotOwnedError{Ref: refOf(pod), Kind: "pod"}
}

func refOf(pod *corev1.Pod) worker.Ref {
	return worker.Ref{Backend: worker.BackendKubernetes, Namespace: pod.Namespace, Name: pod.Name}
}

// uidMismatch tells whether the API server refused a write because the UID
// it carried is not the pod's: a conflict on a UID precondition, or an
// invalid (immutable) metadata.uid in a patch.
func uidMismatch(err error) bool {
	if apierrors.IsConflict(err) {
		return true
	}
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == "metadata.uid" {
			return true
		}
	}
	return false
}
