package main

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const (
	// restrictedAccountName names the service account, role and binding.
	restrictedAccountName = "hodei-provider"
	// restrictedTokenLifetime outlives any development session.
	restrictedTokenLifetime = 365 * 24 * 60 * 60
)

// restrictedRules are what the provider needs to run workers in one namespace.
var restrictedRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch", "create", "delete", "patch", "update"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "list", "watch"}},
	// DRA workers: their ResourceClaimTemplate, and the generated claim read
	// at refresh.
	{APIGroups: []string{"resource.k8s.io"}, Resources: []string{"resourceclaimtemplates"}, Verbs: []string{"get", "create", "patch", "delete"}},
	{APIGroups: []string{"resource.k8s.io"}, Resources: []string{"resourceclaims"}, Verbs: []string{"get", "list"}},
}

// CreateRestrictedAccess makes namespace, a service account limited to
// restrictedRules in it, and returns a bearer token of that account.
func CreateRestrictedAccess(ctx context.Context, client kubernetes.Interface, namespace string) (string, error) {
	objects := []struct {
		kind   string
		create func() error
	}{
		{"namespace", func() error {
			_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
			return err
		}},
		{"service account", func() error {
			_, err := client.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: restrictedAccountName}}, metav1.CreateOptions{})
			return err
		}},
		{"role", func() error {
			role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: restrictedAccountName}, Rules: restrictedRules}
			_, err := client.RbacV1().Roles(namespace).Create(ctx, role, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = client.RbacV1().Roles(namespace).Update(ctx, role, metav1.UpdateOptions{})
			}
			return err
		}},
		{"role binding", func() error {
			binding := &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: restrictedAccountName},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: restrictedAccountName},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: restrictedAccountName, Namespace: namespace}},
			}
			_, err := client.RbacV1().RoleBindings(namespace).Create(ctx, binding, metav1.CreateOptions{})
			return err
		}},
	}
	for _, object := range objects {
		if err := object.create(); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("restricted access: %s: %w", object.kind, err)
		}
	}
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(restrictedTokenLifetime))}}
	token, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, restrictedAccountName, request, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("restricted access: token: %w", err)
	}
	return token.Status.Token, nil
}
