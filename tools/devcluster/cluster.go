package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
)

const (
	// readyTimeout bounds start-up; a healthy start takes a few seconds.
	readyTimeout = 2 * time.Minute
	// stopTimeout bounds how long the components may take to shut down.
	stopTimeout = 30 * time.Second
	// pollInterval paces the readiness checks.
	pollInterval = 100 * time.Millisecond
)

// UpOptions are the flags of "devcluster up".
type UpOptions struct {
	NodesFile            string
	Kubeconfig           string
	DataDir              string
	RestrictedKubeconfig string
	RestrictedNamespace  string
	TokenFile            string
	RegistryFile         string
	Verbose              bool
}

// Up runs the cluster until ctx ends. It writes "ready" on stdout once every
// component is healthy and every node Ready, and logs progress on stderr.
func Up(ctx context.Context, opts UpOptions, stdout, stderr io.Writer) (err error) {
	defer func() {
		// A stop asked for during start-up is a clean stop too.
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil
		}
	}()
	started := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "devcluster: %5.2fs "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
	}
	topology, err := LoadTopology(opts.NodesFile)
	if err != nil {
		return err
	}

	dataDir := opts.DataDir
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "devcluster-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
		logf("data directory %s (removed on exit)", dataDir)
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	if err := configureComponentLogs(dataDir, opts.Verbose); err != nil {
		return err
	}

	pki, err := EnsurePKI(filepath.Join(dataDir, "pki"))
	if err != nil {
		return err
	}
	caPEM, err := pki.CACertPEM()
	if err != nil {
		return err
	}
	etcdLog := filepath.Join(dataDir, "etcd.log")
	if opts.Verbose {
		etcdLog = "stderr"
	}
	etcd, etcdURL, err := StartEtcd(filepath.Join(dataDir, "etcd"), etcdLog)
	if err != nil {
		return err
	}
	defer etcd.Close()
	logf("etcd serving on %s", etcdURL)

	// Components stop when componentsCtx ends; etcd is closed after them.
	componentsCtx, stopComponents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopComponents()
	// The simulated kubelet API listens before kube-apiserver starts, which
	// learns its port from the nodes' status.
	kubeletListener, kubeletPort, err := loopbackListener()
	if err != nil {
		return err
	}
	defer kubeletListener.Close()
	adminCert, adminKey, err := pki.ClientCert(adminIdentity)
	if err != nil {
		return err
	}
	admin := Credentials{ClientCertPEM: adminCert, ClientKeyPEM: adminKey}
	var tokenWebhookConfig string
	if opts.TokenFile != "" {
		if tokenWebhookConfig, err = ServeTokenWebhook(componentsCtx, pki, opts.TokenFile, dataDir); err != nil {
			return err
		}
		logf("bearer tokens of %s accepted", opts.TokenFile)
	}
	server, apiserver, err := StartAPIServer(componentsCtx, pki, etcdURL, tokenWebhookConfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restConfig(server, caPEM, admin))
	if err != nil {
		return err
	}
	components := []*runningComponent{apiserver}
	defer func() {
		// kube-apiserver ends the process if it is stopped while its
		// post-start hooks run; a stop during start-up waits for them.
		_ = waitUntil(context.Background(), components[:1], func(ctx context.Context) error { return apiserverReady(ctx, client) })
		stopComponents()
		if !waitAll(components, stopTimeout) {
			err = errors.Join(err, fmt.Errorf("components did not stop within %s", stopTimeout))
		}
		logf("stopped")
	}()

	if err := waitUntil(ctx, components, func(ctx context.Context) error { return apiserverReady(ctx, client) }); err != nil {
		return err
	}
	logf("kube-apiserver ready on %s", server)
	if err := WriteKubeconfig(opts.Kubeconfig, server, caPEM, admin, ""); err != nil {
		return err
	}

	running, healthChecks, err := startSchedulerAndControllerManager(componentsCtx, pki, dataDir, server, caPEM)
	components = append(components, running...)
	if err != nil {
		return err
	}

	simulator, err := NewNodeSimulator(client, topology, kubeletPort)
	if err != nil {
		return err
	}
	defer simulator.Shutdown()
	if err := simulator.Register(ctx); err != nil {
		return err
	}
	go simulator.RunHeartbeats(componentsCtx)
	// The nodes' DRA devices are published before any pod can ask for them.
	if err := PublishDRA(ctx, client, topology); err != nil {
		return err
	}
	if err := simulator.StartPods(componentsCtx); err != nil {
		return err
	}
	if err := simulator.ServeKubeletAPI(componentsCtx, kubeletListener, pki); err != nil {
		return err
	}
	logf("%d simulated nodes registered", len(topology.Nodes)-len(topology.realNodes()))

	realNodes, registry, err := startRealNodes(ctx, topology, RealNodeOptions{
		Client: client, PKI: pki, Server: server, CAPEM: caPEM, DataDir: dataDir, Logf: logf,
	}, opts.RegistryFile)
	// Stopped before the control plane: the kubelets' pods are deleted
	// through it.
	defer func() {
		err = errors.Join(err, realNodes.Stop())
		if registry != nil {
			err = errors.Join(err, registry.Stop())
		}
	}()
	components = append(components, realNodes.Components()...)
	if err != nil {
		return err
	}

	if opts.RestrictedKubeconfig != "" {
		token, err := CreateRestrictedAccess(ctx, client, opts.RestrictedNamespace)
		if err != nil {
			return err
		}
		if err := WriteKubeconfig(opts.RestrictedKubeconfig, server, caPEM, Credentials{Token: token}, opts.RestrictedNamespace); err != nil {
			return err
		}
	}
	if err := waitUntil(ctx, components, clusterReady(client, healthChecks, topology, realNodes)); err != nil {
		return err
	}
	logf("ready; kubeconfig %s", opts.Kubeconfig)
	fmt.Fprintln(stdout, "ready")

	if failed := firstStopped(ctx, components); failed != nil {
		return failed.exitError()
	}
	logf("stopping")
	return nil
}

// startRealNodes builds the real nodes' images, starts the private image
// registry that serves them too, and starts the nodes. It returns what to
// Stop even when it fails part way.
func startRealNodes(ctx context.Context, topology *Topology, opts RealNodeOptions, registryFile string) (*RealNodes, *Registry, error) {
	if len(topology.realNodes()) == 0 {
		nodes, err := StartRealNodes(ctx, topology, opts)
		return nodes, nil, err
	}
	images, err := BuildTestImages(filepath.Join(opts.DataDir, "images"))
	if err != nil {
		return &RealNodes{}, nil, err
	}
	registry, err := StartRegistry(ctx, opts.PKI, filepath.Join(opts.DataDir, "registry"), images)
	if err != nil {
		return &RealNodes{}, nil, err
	}
	opts.Logf("image registry on %s serves %s", registry.Host(), registry.Image())
	if registryFile != "" {
		if err := registry.WriteInfo(registryFile); err != nil {
			return &RealNodes{}, registry, err
		}
	}
	opts.Images = []string{images.Busybox.Archive, images.Pause.Archive}
	opts.SandboxImage = images.Pause.Name
	opts.HostsDir = registry.HostsDir
	nodes, err := StartRealNodes(ctx, topology, opts)
	return nodes, registry, err
}

// startSchedulerAndControllerManager starts both with their own identities
// and returns them, with what tells that they are healthy.
func startSchedulerAndControllerManager(ctx context.Context, pki *PKI, dataDir, server string, caPEM []byte) ([]*runningComponent, []*componentHealthz, error) {
	var started []*runningComponent
	var healthChecks []*componentHealthz
	for _, component := range []struct {
		identity clientIdentity
		start    func(context.Context, string, *PKI) (string, *runningComponent, error)
		endpoint string
	}{
		{schedulerIdentity, StartScheduler, "/readyz"},
		{controllerManagerIdentity, StartControllerManager, "/healthz"},
	} {
		kubeconfig, err := writeComponentKubeconfig(pki, dataDir, server, caPEM, component.identity)
		if err != nil {
			return started, nil, err
		}
		url, running, err := component.start(ctx, kubeconfig, pki)
		if err != nil {
			return started, nil, err
		}
		started = append(started, running)
		healthChecks = append(healthChecks, newComponentHealthz(component.identity.name, url+component.endpoint, caPEM))
	}
	return started, healthChecks, nil
}

func writeComponentKubeconfig(pki *PKI, dataDir, server string, caPEM []byte, identity clientIdentity) (string, error) {
	cert, key, err := pki.ClientCert(identity)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dataDir, identity.name+".kubeconfig")
	return path, WriteKubeconfig(path, server, caPEM, Credentials{ClientCertPEM: cert, ClientKeyPEM: key}, "")
}

// clusterReady checks the components' health, the controller manager's
// first work and every node of the topology.
func clusterReady(client kubernetes.Interface, healthChecks []*componentHealthz, topology *Topology, realNodes *RealNodes) func(context.Context) error {
	return func(ctx context.Context) error {
		for _, health := range healthChecks {
			if err := health.check(ctx); err != nil {
				return err
			}
		}
		if err := defaultServiceAccountExists(ctx, client); err != nil {
			return err
		}
		if err := realNodes.Ready(ctx); err != nil {
			return err
		}
		return nodesReady(ctx, client, topology)
	}
}

// waitUntil polls check until it passes, ctx ends, a component stops or
// readyTimeout passes; the last failure explains a timeout.
func waitUntil(ctx context.Context, components []*runningComponent, check func(context.Context) error) error {
	deadline := time.After(readyTimeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		lastErr := check(checkCtx)
		cancel()
		if lastErr == nil {
			return nil
		}
		for _, component := range components {
			if component.stopped() {
				return component.exitError()
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("not ready after %s: %w", readyTimeout, lastErr)
		case <-ticker.C:
		}
	}
}
