package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// createOwnedSecret makes the Secret that carries secret_env_wo, before
// the pod that reads it. A Secret of that name that the provider made for
// this worker is a leftover of an earlier pod of the name (awaitNameFree
// found none now) and is replaced; any other is never touched.
func (d *Driver) createOwnedSecret(ctx context.Context, spec *worker.Spec) (*corev1.Secret, error) {
	secret := ownedSecret(spec)
	secrets := d.client.CoreV1().Secrets(secret.Namespace)
	existing, err := secrets.Get(ctx, secret.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, d.apiError(fmt.Sprintf("reading secret %s/%s", secret.Namespace, secret.Name), err)
	case !worker.IsOwned(existing.Labels, spec.Name):
		return nil, fmt.Errorf("secret_env_wo: a Secret %s/%s already exists and was not created by the hodei provider for worker %q "+
			"(it lacks the labels %s=%s, %s=%s); it is left untouched: rename the worker or remove that Secret",
			secret.Namespace, secret.Name, spec.Name, worker.LabelManagedBy, worker.ManagedByValue, worker.LabelWorker, spec.Name)
	default:
		err = secrets.Delete(ctx, secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &existing.UID}})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, d.apiError(fmt.Sprintf("replacing the leftover secret %s/%s", secret.Namespace, secret.Name), err)
		}
	}
	created, err := secrets.Create(ctx, secret, metav1.CreateOptions{})
	if err != nil {
		return nil, d.apiError(fmt.Sprintf("creating secret %s/%s for secret_env_wo", secret.Namespace, secret.Name), err)
	}
	return created, nil
}

// adoptSecret makes the pod the Secret's owner, so that the garbage
// collector removes the Secret with the pod even when the pod is deleted
// outside Terraform.
func (d *Driver) adoptSecret(ctx context.Context, secret *corev1.Secret, pod *corev1.Pod) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid": secret.UID,
		"ownerReferences": []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
		}},
	}})
	if err != nil {
		return err
	}
	_, err = d.client.CoreV1().Secrets(secret.Namespace).Patch(ctx, secret.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return d.apiError(fmt.Sprintf("making pod %s/%s the owner of secret %s", pod.Namespace, pod.Name, secret.Name), err)
	}
	return nil
}

// deleteOwnedSecret removes the worker's Secret after its pod: only one
// the provider made for this worker, and not one that a newer pod of the
// name owns. None is success.
func (d *Driver) deleteOwnedSecret(ctx context.Context, namespace, name string, podUID types.UID) error {
	secretName := worker.OwnedSecretName(name)
	secrets := d.client.CoreV1().Secrets(namespace)
	secret, err := secrets.Get(ctx, secretName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return d.apiError(fmt.Sprintf("reading secret %s/%s", namespace, secretName), err)
	case !worker.IsOwned(secret.Labels, name):
		return nil
	}
	for _, ref := range secret.OwnerReferences {
		if ref.Kind == "Pod" && ref.UID != podUID {
			return nil
		}
	}
	err = secrets.Delete(ctx, secretName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &secret.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return d.apiError(fmt.Sprintf("deleting secret %s/%s", namespace, secretName), err)
	}
	return nil
}

// removeFailedSecret deletes the Secret of a failed create; nil does
// nothing.
func (d *Driver) removeFailedSecret(ctx context.Context, secret *corev1.Secret) error {
	if secret == nil {
		return nil
	}
	cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	err := d.client.CoreV1().Secrets(secret.Namespace).Delete(cleanupCtx, secret.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &secret.UID}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("the secret %s/%s of the failed create could not be removed; delete it by hand: %w", secret.Namespace, secret.Name, err)
	}
	return nil
}
