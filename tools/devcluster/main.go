// Command devcluster runs a real Kubernetes control plane (etcd,
// kube-apiserver, kube-scheduler, kube-controller-manager) in one process,
// with simulated nodes, GPU nodes among them, that play the kubelet.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: devcluster up --nodes FILE --kubeconfig PATH [--data-dir DIR]
                     [--restricted-kubeconfig PATH [--restricted-namespace NS]]
                     [--token-file PATH] [--registry-file PATH] [--verbose]
       devcluster claim --kubeconfig PATH --name CLAIM [--namespace NS] [--size 10Gi]
       devcluster workers --kubeconfig PATH
       devcluster kubelet KUBELET-FLAGS...   (what up runs for each real node)

Runs etcd, kube-apiserver, kube-scheduler, kube-controller-manager and
simulated nodes on 127.0.0.1, writes an admin kubeconfig, prints "ready" on
stdout once everything is healthy, and runs until SIGINT or SIGTERM.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		up()
		return
	case "claim":
		err = claimCommand(os.Args[2:])
	case "workers":
		err = workersCommand(os.Args[2:], os.Stdout)
	case "kubelet":
		// A real node's kubelet: this binary re-executed, so that it is
		// always of the control plane's version.
		os.Exit(runKubelet(os.Args[2:]))
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "devcluster: %v\n", err)
		os.Exit(1)
	}
}

func up() {
	var opts UpOptions
	flags := flag.NewFlagSet("devcluster up", flag.ExitOnError)
	flags.Usage = func() { fmt.Fprint(os.Stderr, usage); flags.PrintDefaults() }
	flags.StringVar(&opts.NodesFile, "nodes", "", "YAML file of the simulated nodes (required)")
	flags.StringVar(&opts.Kubeconfig, "kubeconfig", "", "where to write the admin kubeconfig (required)")
	flags.StringVar(&opts.DataDir, "data-dir", "", "keep etcd data, certificates and logs here; default: a temporary directory removed on exit")
	flags.StringVar(&opts.RestrictedKubeconfig, "restricted-kubeconfig", "", "also write a kubeconfig of a service account limited to one namespace")
	flags.StringVar(&opts.RestrictedNamespace, "restricted-namespace", "hodei-limited", "the namespace of --restricted-kubeconfig")
	flags.StringVar(&opts.TokenFile, "token-file", "", "also accept the bearer tokens of this CSV file (token,user,uid,\"group1,group2\",expires RFC 3339), re-read at every request")
	flags.StringVar(&opts.RegistryFile, "registry-file", "", "with real nodes: write the private image registry's address, credentials, CA and image here (JSON)")
	flags.BoolVar(&opts.Verbose, "verbose", false, "write the components' logs to stderr instead of components.log in the data directory")
	_ = flags.Parse(os.Args[2:])
	if opts.NodesFile == "" || opts.Kubeconfig == "" || flags.NArg() > 0 {
		flags.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Up(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "devcluster: %v\n", err)
		os.Exit(1)
	}
}
