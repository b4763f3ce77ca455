package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	controllermanagerapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	controllermanageroptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
)

// controllers is what a pod-centred cluster needs: namespaces and service
// accounts with their tokens and CA bundle, persistent volume binding and the
// finalizers that admission puts on volumes and claims, garbage collection of
// dependents and orphaned pods, quota accounting, the common workload
// controllers, and the resource claim controller, which makes the claims of
// pods' ResourceClaimTemplates and deletes them once their pod is done. Node lifecycle is left out: the node simulator keeps nodes Ready.
var controllers = []string{
	"namespace-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"root-ca-certificate-publisher-controller",
	"persistentvolume-binder-controller",
	"persistentvolume-protection-controller",
	"persistentvolumeclaim-protection-controller",
	"garbage-collector-controller",
	"pod-garbage-collector-controller",
	"resourcequota-controller",
	"replicaset-controller",
	"deployment-controller",
	"job-controller",
	"ttl-after-finished-controller",
	"resourceclaim-controller",
}

// StartControllerManager runs kube-controller-manager until ctx ends. It
// returns the URL of its health endpoints and the running controller manager.
func StartControllerManager(ctx context.Context, kubeconfig string, pki *PKI) (string, *runningComponent, error) {
	opts, err := controllermanageroptions.NewKubeControllerManagerOptions()
	if err != nil {
		return "", nil, err
	}
	known, disabledByDefault, aliases := controllermanagerapp.KnownControllers(), controllermanagerapp.ControllersDisabledByDefault(), controllermanagerapp.ControllerAliases()
	namedFlagSets := opts.Flags(known, disabledByDefault, aliases)
	flags := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	for _, set := range namedFlagSets.FlagSets {
		flags.AddFlagSet(set)
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		// Each controller acts as its own service account with its own
		// bootstrap role, as in a production cluster; the controller
		// manager's identity alone may not, for example, bind volumes.
		"--use-service-account-credentials=true",
		"--controllers=" + strings.Join(controllers, ","),
		// A claim created together with its volume may miss it on the first
		// pass; the default 15 s resync would leave it Pending that long.
		"--pvclaimbinder-sync-period=2s",
		"--service-account-private-key-file=" + pki.ServiceAccountKey,
		"--root-ca-file=" + pki.CACert,
		"--tls-cert-file=" + pki.ServingCert,
		"--tls-private-key-file=" + pki.ServingKey,
	}
	if err := flags.Parse(args); err != nil {
		return "", nil, fmt.Errorf("kube-controller-manager flags: %w", err)
	}
	opts.ParsedFlags = &namedFlagSets
	listener, port, err := loopbackListener()
	if err != nil {
		return "", nil, err
	}
	opts.SecureServing.Listener = listener
	opts.SecureServing.BindPort = port

	config, err := opts.Config(ctx, known, disabledByDefault, aliases)
	if err != nil {
		listener.Close()
		return "", nil, fmt.Errorf("kube-controller-manager: %w", err)
	}
	return "https://" + listener.Addr().String(), runComponent("kube-controller-manager", func() error {
		return controllermanagerapp.Run(ctx, config.Complete())
	}), nil
}
