package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// admissionPlugins are kube-apiserver's defaults plus NodeRestriction, named
// explicitly so the cluster's behaviour does not drift with upstream defaults.
var admissionPlugins = []string{
	"NamespaceLifecycle", "LimitRanger", "ServiceAccount", "NodeRestriction",
	"TaintNodesByCondition", "PodSecurity", "Priority", "DefaultTolerationSeconds",
	"DefaultStorageClass", "StorageObjectInUseProtection", "PersistentVolumeClaimResize",
	"RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
	"CertificateSubjectRestriction", "DefaultIngressClass", "MutatingAdmissionPolicy",
	"MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook",
	"ResourceQuota",
}

// serviceAccountIssuer is the "iss" of service account tokens, as in most clusters.
const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// StartAPIServer runs kube-apiserver on a free 127.0.0.1 port until ctx ends.
// It returns the server URL and the running server. A tokenWebhookConfig
// (from ServeTokenWebhook) adds bearer tokens checked by that webhook.
func StartAPIServer(ctx context.Context, pki *PKI, etcdURL, tokenWebhookConfig string) (string, *runningComponent, error) {
	frontProxyCert, frontProxyKey, err := pki.ClientCertFiles(frontProxyIdentity)
	if err != nil {
		return "", nil, err
	}
	kubeletClientCert, kubeletClientKey, err := pki.ClientCertFiles(kubeletClientIdentity)
	if err != nil {
		return "", nil, err
	}
	s := options.NewServerRunOptions()
	flags := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, set := range s.Flags().FlagSets {
		flags.AddFlagSet(set)
	}
	args := []string{
		"--advertise-address=127.0.0.1",
		// Endpoint reconciliation would publish the loopback address as the
		// "kubernetes" service's endpoint, which nothing in the cluster can reach.
		"--endpoint-reconciler-type=none",
		"--etcd-servers=" + etcdURL,
		"--tls-cert-file=" + pki.ServingCert,
		"--tls-private-key-file=" + pki.ServingKey,
		"--client-ca-file=" + pki.CACert,
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=" + strings.Join(admissionPlugins, ","),
		"--allow-privileged=true",
		"--service-cluster-ip-range=10.0.0.0/16",
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-key-file=" + pki.ServiceAccountKey,
		"--service-account-signing-key-file=" + pki.ServiceAccountKey,
		"--cert-dir=" + pki.Dir,
		"--proxy-client-cert-file=" + frontProxyCert,
		"--proxy-client-key-file=" + frontProxyKey,
		"--requestheader-client-ca-file=" + pki.CACert,
		"--requestheader-allowed-names=" + frontProxyIdentity.user,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--kubelet-client-certificate=" + kubeletClientCert,
		"--kubelet-client-key=" + kubeletClientKey,
		"--kubelet-certificate-authority=" + pki.CACert,
		// Simulated nodes publish the simulated kubelet API as their
		// InternalDNS address (localhost); their InternalIP is fictitious.
		"--kubelet-preferred-address-types=InternalDNS,InternalIP,Hostname,ExternalDNS,ExternalIP",
		"--profiling=false",
	}
	if tokenWebhookConfig != "" {
		args = append(args,
			"--authentication-token-webhook-config-file="+tokenWebhookConfig,
			"--authentication-token-webhook-version=v1",
			// Every request asks the webhook, so that a token expires or is
			// revoked at the moment the token file says.
			"--authentication-token-webhook-cache-ttl=0s")
	}
	if err := flags.Parse(args); err != nil {
		return "", nil, fmt.Errorf("kube-apiserver flags: %w", err)
	}
	if tokenWebhookConfig != "" {
		// Nor does the cache in front of all token authenticators (10 s).
		s.Authentication.TokenSuccessCacheTTL = 0
	}

	listener, port, err := loopbackListener()
	if err != nil {
		return "", nil, err
	}
	s.SecureServing.Listener = listener
	s.SecureServing.BindPort = port

	completed, err := s.Complete(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("kube-apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return "", nil, fmt.Errorf("kube-apiserver options: %w", utilerrors.NewAggregate(errs))
	}
	config, err := app.NewConfig(completed)
	if err != nil {
		return "", nil, fmt.Errorf("kube-apiserver config: %w", err)
	}
	completedConfig, err := config.Complete()
	if err != nil {
		return "", nil, fmt.Errorf("kube-apiserver config: %w", err)
	}
	server, err := app.CreateServerChain(completedConfig)
	if err != nil {
		return "", nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return "", nil, fmt.Errorf("kube-apiserver: %w", err)
	}
	return "https://" + listener.Addr().String(), runComponent("kube-apiserver", func() error { return prepared.Run(ctx) }), nil
}
