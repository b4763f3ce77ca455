package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

// StartScheduler runs kube-scheduler with the default profile until ctx
// ends. It returns the URL of its health endpoints and the running scheduler.
func StartScheduler(ctx context.Context, kubeconfig string, pki *PKI) (string, *runningComponent, error) {
	opts := scheduleroptions.NewOptions()
	flags := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	for _, set := range opts.Flags.FlagSets {
		flags.AddFlagSet(set)
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		// One instance: waiting for a lease would only delay start-up.
		"--leader-elect=false",
		"--tls-cert-file=" + pki.ServingCert,
		"--tls-private-key-file=" + pki.ServingKey,
	}
	if err := flags.Parse(args); err != nil {
		return "", nil, fmt.Errorf("kube-scheduler flags: %w", err)
	}
	listener, port, err := loopbackListener()
	if err != nil {
		return "", nil, err
	}
	opts.SecureServing.Listener = listener
	opts.SecureServing.BindPort = port

	completed, scheduler, err := schedulerapp.Setup(ctx, opts)
	if err != nil {
		listener.Close()
		return "", nil, fmt.Errorf("kube-scheduler: %w", err)
	}
	return "https://" + listener.Addr().String(), runComponent("kube-scheduler", func() error {
		// Without leader election Run always ends with an error saying so,
		// which only matters when it ends before it was asked to.
		if err := schedulerapp.Run(ctx, completed, scheduler); err != nil && ctx.Err() == nil {
			return err
		}
		return nil
	}), nil
}
