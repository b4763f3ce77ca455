package main

import (
	"context"
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The provider's stop grace (internal/backend/docker).
const stopGrace = 10

// dockerBaseline does with the Docker client what any client must do at
// least (issue 16): create and start the same container and inspect it to
// see it running, with no startup window; one inspect to read; stop with the
// same grace and remove with volumes.
type dockerBaseline struct {
	cli *client.Client
}

func newDockerBaseline(o options) (*dockerBaseline, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithHost(o.dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, err
	}
	ping, err := cli.Ping(context.Background())
	if err != nil {
		return nil, fmt.Errorf("docker daemon at %s: %w", o.dockerHost, err)
	}
	cli.NegotiateAPIVersionPing(ping)
	return &dockerBaseline{cli: cli}, nil
}

func (b *dockerBaseline) Close() { _ = b.cli.Close() }

// container is what the provider sends for the bench's worker: ownership
// labels and the canonical spec label, Entrypoint = command, restart policy
// unless-stopped (Always), no-new-privileges, all capabilities dropped, CPU
// shares and memory reservation from the requests.
func (b *dockerBaseline) container(name string) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{
		Image:      dockerImage,
		Entrypoint: workerCommand,
		Env:        []string{},
		Labels: map[string]string{
			"app.kubernetes.io/managed-by": "hodei",
			"hodei.io/worker":              name,
			"hodei.io/spec":                canonicalSpec(name, "docker", dockerImage),
		},
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		SecurityOpt:   []string{"no-new-privileges:true"},
		CapDrop:       []string{"ALL"},
	}
	// As the provider maps cpu and memory: shares of 1024 per CPU, at least
	// Docker's 2; memory as the reservation.
	cpu, memory := resource.MustParse(workerCPU), resource.MustParse(workerMem)
	host.CPUShares = max(cpu.MilliValue()*1024/1000, 2)
	host.MemoryReservation = memory.Value()
	return cfg, host
}

func (b *dockerBaseline) Create(ctx context.Context, name string) error {
	cfg, host := b.container(name)
	created, err := b.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return err
	}
	if err := b.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return err
	}
	info, err := b.cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		return err
	}
	if !info.State.Running {
		return errors.New("the container exited")
	}
	return nil
}

func (b *dockerBaseline) Read(ctx context.Context, name string) error {
	_, err := b.cli.ContainerInspect(ctx, name)
	return err
}

func (b *dockerBaseline) Delete(ctx context.Context, name string) error {
	grace := stopGrace
	if err := b.cli.ContainerStop(ctx, name, container.StopOptions{Timeout: &grace}); err != nil && !cerrdefs.IsNotFound(err) {
		return err
	}
	err := b.cli.ContainerRemove(ctx, name, container.RemoveOptions{RemoveVolumes: true, Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return err
	}
	return nil
}
