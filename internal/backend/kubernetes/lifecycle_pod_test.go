package kubernetes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

func TestBuildPodGracePeriodAndReadinessProbe(t *testing.T) {
	spec := baseSpec()
	spec.TerminationGracePeriod = "1m"
	spec.Readiness = &worker.Readiness{Exec: &worker.ExecProbe{Command: []string{"test", "-f", "/tmp/ready"}}, Period: "5s", FailureThreshold: 2, InitialDelay: "3s"}
	pod := mustBuild(t, spec, Options{})
	require.NotNil(t, pod.Spec.TerminationGracePeriodSeconds)
	assert.Equal(t, int64(60), *pod.Spec.TerminationGracePeriodSeconds)
	assert.Equal(t, &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-f", "/tmp/ready"}}},
		PeriodSeconds:       5,
		FailureThreshold:    2,
		InitialDelaySeconds: 3,
	}, pod.Spec.Containers[0].ReadinessProbe)

	spec.Readiness = &worker.Readiness{HTTPGet: &worker.HTTPGetProbe{Path: "/healthz", Port: 8080, Scheme: "HTTPS"}, Period: "10s", FailureThreshold: 3, InitialDelay: "0s"}
	pod = mustBuild(t, spec, Options{})
	assert.Equal(t, &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTPS}, pod.Spec.Containers[0].ReadinessProbe.HTTPGet)

	spec.Readiness = &worker.Readiness{TCPSocket: &worker.TCPSocketProbe{Port: 5432}, Period: "10s", FailureThreshold: 3, InitialDelay: "0s"}
	pod = mustBuild(t, spec, Options{})
	assert.Equal(t, &corev1.TCPSocketAction{Port: intstr.FromInt32(5432)}, pod.Spec.Containers[0].ReadinessProbe.TCPSocket)

	spec.TerminationGracePeriod, spec.Readiness = "", nil
	pod = mustBuild(t, spec, Options{})
	assert.Nil(t, pod.Spec.TerminationGracePeriodSeconds, "unset: the API server's default (30 s)")
	assert.Nil(t, pod.Spec.Containers[0].ReadinessProbe)
}

func TestReachedReady(t *testing.T) {
	running := &corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	pod := podWith(corev1.PodRunning, running)
	pod.Spec.Containers = []corev1.Container{{Name: worker.ContainerName, ReadinessProbe: &corev1.Probe{}}}
	assert.True(t, reached(pod, worker.WaitRunning), "with a probe, running asks for the running container only")
	assert.False(t, reached(pod, worker.WaitReady))
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	assert.True(t, reached(pod, worker.WaitReady))
}
