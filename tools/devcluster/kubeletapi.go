package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ServeKubeletAPI serves the part of the kubelet API that kube-apiserver
// proxies for clients, container logs, on listener until ctx ends. Like a
// kubelet it accepts only client certificates of the cluster CA.
func (s *NodeSimulator) ServeKubeletAPI(ctx context.Context, listener net.Listener, pki *PKI) error {
	serving, err := tls.LoadX509KeyPair(pki.ServingCert, pki.ServingKey)
	if err != nil {
		return err
	}
	caPEM, err := pki.CACertPEM()
	if err != nil {
		return err
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveContainerLogs)
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{serving},
			ClientCAs:    clientCAs,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		},
	}
	go func() { _ = server.ServeTLS(listener, "", "") }()
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	return nil
}

// serveContainerLogs answers with the simulated output of a container,
// honouring the previous, timestamps, tailLines and follow parameters.
func (s *NodeSimulator) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	namespace, podName, containerName := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	pod, err := s.pods.Pods(namespace).Get(podName)
	if apierrors.IsNotFound(err) || (err == nil && s.nodes[pod.Spec.NodeName] == nil) {
		http.Error(w, fmt.Sprintf("pod %s/%s not found", namespace, podName), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	query := r.URL.Query()
	lines, running, err := containerLog(pod, containerName, query.Get("previous") == "true")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if tail, err := strconv.Atoi(query.Get("tailLines")); err == nil && tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "text/plain")
	for _, line := range lines {
		if query.Get("timestamps") == "true" {
			fmt.Fprintf(w, "%s %s\n", line.at.UTC().Format(time.RFC3339Nano), line.text)
		} else {
			fmt.Fprintln(w, line.text)
		}
	}
	if query.Get("follow") == "true" && running {
		// A running simulated container writes nothing more; the stream
		// stays open until the client leaves, as with a quiet process.
		if flusher, ok := w.(http.Flusher); ok {
			flusher.Flush()
		}
		<-r.Context().Done()
	}
}

// logLine is one line of simulated container output.
type logLine struct {
	at   time.Time
	text string
}

// containerLog is what the container wrote, given its image tag, and whether
// it is still running. It fails as a kubelet does for a container that never
// started or has no previous run.
func containerLog(pod *corev1.Pod, containerName string, previous bool) ([]logLine, bool, error) {
	var container *corev1.Container
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == containerName {
				container = &list[i]
			}
		}
	}
	if container == nil {
		return nil, false, fmt.Errorf("container %s is not valid for pod %s", containerName, pod.Name)
	}
	status := findContainerStatus(append(pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses...), containerName)
	if status == nil || (status.State.Waiting != nil && status.LastTerminationState.Terminated == nil) {
		reason := "ContainerCreating"
		if status != nil && status.State.Waiting != nil {
			switch status.State.Waiting.Reason {
			case "ErrImagePull", "ImagePullBackOff":
				reason = "trying and failing to pull image"
			case "":
			default:
				reason = status.State.Waiting.Reason
			}
		}
		return nil, false, fmt.Errorf("container %q in pod %q is waiting to start: %s", containerName, pod.Name, reason)
	}
	state := status.State
	if previous {
		if status.LastTerminationState.Terminated == nil {
			return nil, false, fmt.Errorf("previous terminated container %q in pod %q not found", containerName, pod.Name)
		}
		state = status.LastTerminationState
	}
	started := pod.Status.StartTime.Time
	switch {
	case state.Running != nil:
		started = state.Running.StartedAt.Time
	case state.Terminated != nil:
		started = state.Terminated.StartedAt.Time
	}
	lines := []logLine{{started, fmt.Sprintf("devcluster: simulated container %s started from image %s", containerName, container.Image)}}
	exit := state.Terminated
	if exit == nil && state.Waiting != nil {
		// Crash-looping: the output is that of the run that just ended.
		exit = status.LastTerminationState.Terminated
	}
	if exit != nil {
		lines = append(lines, logLine{exit.FinishedAt.Time, fmt.Sprintf("devcluster: simulated exit, code %d", exit.ExitCode)})
	}
	return lines, state.Running != nil, nil
}
