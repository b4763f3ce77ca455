package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// How long a started container must stay up before wait_for = "running"
// accepts it: a quarter of the time its start took, within these bounds. A
// command that fails at once exits, and its die event arrives, within a
// fraction of the time the daemon took to set the container up and start
// it: measured with busybox `exit 3` at parallelism 10 under a load of 15,
// starts took 0.8-2.0 s and the die events came 3-13 % of that after the
// start returned. So create reports the failure instead of a worker that is
// gone; the inspect that closes the window catches an exit whose event is
// still on its way. A window as long as the whole start cost an apply of
// 100 containers at parallelism 10 five seconds, a fixed 1 s ten (issue 16).
const (
	minStartupWindow     = 50 * time.Millisecond
	maxStartupWindow     = time.Second
	startupWindowDivisor = 4
)

// startupWindow is the window for a start that took took.
func startupWindow(took time.Duration) time.Duration {
	return min(max(took/startupWindowDivisor, minStartupWindow), maxStartupWindow)
}

// logTailLines is how many log lines a failed create reports.
const logTailLines = "20"

// Driver runs workers as containers on one Docker daemon.
type Driver struct {
	client       *client.Client
	catalog      *worker.Catalog
	registryAuth []RegistryAuth

	// info is the daemon's `docker info`, asked once per provider process.
	info daemonInfo
	// events is the provider process's one subscription to the daemon's
	// events, shared by the waits of all creates.
	events *containerEvents
}

// NewDriver uses a client made by NewClient, and pulls images with the
// registry_auth blocks' credentials, else the Docker config file's.
func NewDriver(cli *client.Client, catalog *worker.Catalog, registryAuth []RegistryAuth) *Driver {
	return &Driver{client: cli, catalog: catalog, registryAuth: registryAuth, events: newContainerEvents(cli)}
}

// Create makes the container, starts it and waits as waitFor says. Whatever
// fails after the container exists removes it again; a container it did not
// make is never removed.
func (d *Driver) Create(ctx context.Context, s *worker.Spec, waitFor worker.WaitFor) (*worker.Observed, error) {
	ref := worker.RefOf(s)
	if err := d.checkAPIFeatures(s); err != nil {
		return nil, err
	}
	built, err := buildContainer(s, d.catalog)
	if err != nil {
		return nil, err
	}
	imageReady := false
	if s.ImagePullPolicy == worker.PullAlways || needsImageUser(s) {
		local, err := d.ensureImage(ctx, s.Image, s.ImagePullPolicy)
		if err != nil {
			return nil, err
		}
		if err := d.checkNonRoot(ctx, s, local); err != nil {
			return nil, err
		}
		imageReady = true
	}
	created, err := d.createContainer(ctx, s, built, imageReady)
	if err != nil {
		return nil, err
	}
	info, err := d.startAndWait(ctx, created, waitFor)
	if err != nil {
		return nil, errors.Join(err, d.remove(created))
	}
	if info != nil {
		// The inspect that closed the startup window is what Read would see.
		return observe(*info, d.nodeName(ctx))
	}
	obs, err := d.Read(ctx, ref)
	if err == nil && obs == nil {
		err = fmt.Errorf("container %q disappeared right after it started", s.Name)
	}
	return obs, err
}

// createContainer asks the daemon for the container first, as docker run
// does, and meets what it refuses once each: a missing image is made local
// as image_pull_policy says, a name in use is awaited or refused as
// awaitNameFree says. A create that succeeds costs one request (issue 16);
// the image inspect and name check before it cost two for every worker.
// It returns the container's ID.
func (d *Driver) createContainer(ctx context.Context, s *worker.Spec, built *containerSpec, imageReady bool) (string, error) {
	ref := worker.RefOf(s)
	nameAwaited := false
	for {
		// A create cancelled in flight may still make the container, which
		// then belongs to nobody: the request runs to its answer on a bounded
		// context of its own, and a cancel that comes meanwhile fails the
		// start or the wait after it, which removes the container.
		createCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		created, err := d.client.ContainerCreate(createCtx, built.Config, built.HostConfig, nil, nil, s.Name)
		cancel()
		switch {
		case err == nil:
			return created.ID, nil
		case cerrdefs.IsNotFound(err) && !imageReady:
			// Most likely the image; if it is there after all, the create
			// fails again with the daemon's own reason.
			imageReady = true
			if _, err := d.ensureImage(ctx, s.Image, s.ImagePullPolicy); err != nil {
				return "", err
			}
			continue
		case cerrdefs.IsConflict(err) && !nameAwaited:
			nameAwaited = true
			if err := d.awaitNameFree(ctx, ref); err != nil {
				return "", err
			}
			continue
		case cerrdefs.IsConflict(err):
			// Another create of this name came in between.
			if taken := d.nameTaken(ctx, ref); taken != nil {
				return "", taken
			}
		case built.HostConfig.Runtime != "" && strings.Contains(strings.ToLower(err.Error()), "runtime"):
			return "", fmt.Errorf("creating container %q with runtime %q (runtime_class_name, else the gpu_type's runtime_class): %w; "+
				"name a runtime that `docker info` lists under Runtimes, or leave both unset for the daemon's default", s.Name, built.HostConfig.Runtime, err)
		}
		return "", fmt.Errorf("creating container %q: %w", s.Name, err)
	}
}

// awaitNameFree refuses a foreign container of the worker's name at once.
// A container of ours with that name may belong to another Terraform state
// or resource address, or be on its way out through that instance's destroy
// (a resource address renamed without a moved block destroys the old
// instance while it creates the new one): it is never removed here. Create
// watches for its destroy event within worker.NameWaitWindow and then fails
// with a *worker.ExistsError that says how to import or remove it.
func (d *Driver) awaitNameFree(ctx context.Context, ref worker.Ref) error {
	existing, err := d.inspectOwned(ctx, ref)
	if existing == nil || err != nil {
		return err
	}
	window := worker.NameWaitWindow(ctx)
	waitCtx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	msgs, errs, stopWatch := d.events.watch(existing.ID, events.ActionDestroy)
	defer stopWatch()
	// It may have gone before the watch began.
	if _, err := d.client.ContainerInspect(waitCtx, existing.ID); cerrdefs.IsNotFound(err) {
		return nil
	}
	select {
	case <-msgs:
		return nil
	case err := <-errs:
		if waitCtx.Err() == nil {
			return fmt.Errorf("watching container %q go away: %w", ref.Name, err)
		}
	case <-waitCtx.Done():
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("waiting for container %q (ID %s) to go away: %w", ref.Name, existing.ID, ctx.Err())
	}
	return &worker.ExistsError{Ref: ref, Kind: "container", UID: existing.ID, Waited: window}
}

// nameTaken is the error for a container of the worker's name that a
// create conflicts with, nil when none is found.
func (d *Driver) nameTaken(ctx context.Context, ref worker.Ref) error {
	existing, err := d.inspectOwned(ctx, ref)
	if existing == nil || err != nil {
		return err
	}
	return &worker.ExistsError{Ref: ref, Kind: "container", UID: existing.ID}
}

// ensureImage makes the image local as image_pull_policy says: Always
// pulls, Never only inspects, IfNotPresent (and unset) pulls a missing
// image. It returns the inspect of a local image, nil after a pull.
func (d *Driver) ensureImage(ctx context.Context, ref, policy string) (*image.InspectResponse, error) {
	if policy == worker.PullAlways {
		return nil, d.pull(ctx, ref)
	}
	local, err := d.client.ImageInspect(ctx, ref)
	if err == nil {
		return &local, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("inspecting image %q: %w", ref, err)
	}
	if policy == worker.PullNever {
		return nil, fmt.Errorf("image_pull_policy = %q: the image %q is not on the Docker engine; load or pull it there first, or set image_pull_policy = %q",
			worker.PullNever, ref, worker.PullIfNotPresent)
	}
	return nil, d.pull(ctx, ref)
}

// pull pulls the image with its registry's credentials and reads the
// progress stream to its end, where the daemon reports a failure.
func (d *Driver) pull(ctx context.Context, ref string) error {
	creds, err := credentialsFor(ref, d.registryAuth)
	if err != nil {
		return fmt.Errorf("pulling image %q: %w", ref, err)
	}
	stream, err := d.client.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: creds.encoded})
	if err == nil {
		defer stream.Close()
		err = jsonmessage.DisplayJSONMessagesStream(stream, io.Discard, 0, false, nil)
	}
	if err != nil {
		return pullError(ref, creds, err)
	}
	return nil
}

// checkNonRoot enforces run_as_non_root as the kubelet does: the process
// must not run as user 0, whether the spec or the image says so. img is the
// image's inspect when ensureImage had it; a pulled image is inspected here.
func (d *Driver) checkNonRoot(ctx context.Context, s *worker.Spec, img *image.InspectResponse) error {
	if !needsImageUser(s) {
		return nil
	}
	if img == nil {
		pulled, err := d.client.ImageInspect(ctx, s.Image)
		if err != nil {
			return fmt.Errorf("inspecting image %q: %w", s.Image, err)
		}
		img = &pulled
	}
	user := ""
	if img.Config != nil {
		user = strings.SplitN(img.Config.User, ":", 2)[0]
	}
	if user == "" || user == "0" || user == "root" {
		return fmt.Errorf("security.run_as_non_root: image %q runs as root (user %q); set security.run_as_user to a non-zero uid", s.Image, user)
	}
	return nil
}

// needsImageUser tells whether run_as_non_root leaves the user to the image.
func needsImageUser(s *worker.Spec) bool {
	return s.Security != nil && s.Security.RunAsNonRoot && s.Security.RunAsUser == nil
}

// checkAPIFeatures refuses settings the negotiated engine API cannot carry
// before anything is made.
func (d *Driver) checkAPIFeatures(s *worker.Spec) error {
	const subpathAPI = "1.45"
	for i, v := range s.Volumes {
		if v.Persistent != nil && v.SubPath != "" && versions.LessThan(d.client.ClientVersion(), subpathAPI) {
			return fmt.Errorf("volume[%d].sub_path: the Docker engine speaks API %s; a sub path of a named volume needs API %s (Docker 26) or later",
				i, d.client.ClientVersion(), subpathAPI)
		}
	}
	return nil
}

// startAndWait starts the container and, for wait_for = "running", watches
// its events through the startup window: a die event fails the create with
// the exit code and the last log lines. After the window it returns the
// container's inspect, nil for other values of wait_for.
func (d *Driver) startAndWait(ctx context.Context, id string, waitFor worker.WaitFor) (*container.InspectResponse, error) {
	watched := []events.Action{events.ActionDie}
	if waitFor == worker.WaitReady {
		watched = append(watched, events.ActionHealthStatus)
	}
	msgs, errs, stopWatch := d.events.watch(id, watched...)
	defer stopWatch()
	began := time.Now()
	if err := d.client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return nil, fmt.Errorf("starting container: %w", err)
	}
	if waitFor == worker.WaitReady {
		return d.waitHealthy(ctx, id, msgs, errs)
	}
	if waitFor.OrDefault() != worker.WaitRunning {
		return nil, nil
	}
	window := time.NewTimer(startupWindow(time.Since(began)))
	defer window.Stop()
	select {
	case <-msgs:
		return nil, d.exitError(ctx, id)
	case err := <-errs:
		return nil, fmt.Errorf("watching container events: %w", err)
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the container to run: %w", ctx.Err())
	case <-window.C:
	}
	// The window passed without a die event; a restart policy may still have
	// caught an exit between events, which inspect shows.
	info, err := d.client.ContainerInspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspecting container: %w", err)
	}
	if !info.State.Running || info.RestartCount > 0 {
		return nil, d.exitError(ctx, id)
	}
	return &info, nil
}

// waitHealthy waits, for wait_for = "ready", until the health check
// reports healthy; unhealthy, an exit or the end of ctx fail the create
// with the health check's last output. It returns the container's inspect.
func (d *Driver) waitHealthy(ctx context.Context, id string, msgs <-chan events.Message, errs <-chan error) (*container.InspectResponse, error) {
	for {
		// An event may have come before the watch began: inspect decides,
		// and each event only prompts another look.
		info, err := d.client.ContainerInspect(ctx, id)
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("inspecting container: %w", err)
		}
		if err == nil {
			switch {
			case !info.State.Running || info.RestartCount > 0:
				return nil, d.exitError(ctx, id)
			case info.State.Health != nil && info.State.Health.Status == container.Healthy:
				return &info, nil
			case info.State.Health != nil && info.State.Health.Status == container.Unhealthy:
				return nil, fmt.Errorf("the container's readiness probe failed %d times in a row (health status unhealthy)%s", info.State.Health.FailingStreak, healthLog(info.State.Health))
			}
		}
		select {
		case <-msgs:
		case err := <-errs:
			return nil, fmt.Errorf("watching container events: %w", err)
		case <-ctx.Done():
			msg := "the container was not ready (health status starting) within the create timeout"
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				msg = "the create was cancelled before the container was ready"
			}
			if err == nil {
				msg += healthLog(info.State.Health)
			}
			return nil, fmt.Errorf("%s: %w", msg, ctx.Err())
		}
	}
}

// healthLog is the last health check's exit code and output.
func healthLog(h *container.Health) string {
	if h == nil || len(h.Log) == 0 {
		return ""
	}
	last := h.Log[len(h.Log)-1]
	return fmt.Sprintf("; last probe exited %d: %s", last.ExitCode, strings.TrimSpace(last.Output))
}

func (d *Driver) exitError(ctx context.Context, id string) error {
	info, err := d.client.ContainerInspect(ctx, id)
	if err != nil {
		return fmt.Errorf("the container exited; inspecting it failed: %w", err)
	}
	msg := fmt.Sprintf("the container exited with code %d", info.State.ExitCode)
	if info.State.OOMKilled {
		msg += " (killed: out of memory, raise resources.memory_limit)"
	}
	if info.State.Error != "" {
		msg += ": " + info.State.Error
	}
	if logs := d.logTail(ctx, id); logs != "" {
		msg += "; last log lines:\n" + logs
	}
	return errors.New(msg)
}

func (d *Driver) logTail(ctx context.Context, id string) string {
	rc, err := d.client.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: logTailLines})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		return ""
	}
	return strings.TrimRight(out.String(), "\n")
}

// remove deletes a container and its anonymous volumes, on a context of its
// own: it cleans up after a create whose context may have expired. While
// the daemon cannot be reached (restarting, say) it tries again, every
// half second, within that minute, so that a short outage leaves no orphan.
func (d *Driver) remove(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	for {
		err := d.client.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		if !client.IsErrConnectionFailed(err) || !sleepCtx(ctx, removeRetryInterval) {
			return fmt.Errorf("the container %s could not be removed; delete it by hand: %w", id, err)
		}
	}
}

// Bounds of remove.
const (
	removeTimeout       = time.Minute
	removeRetryInterval = 500 * time.Millisecond
)

// sleepCtx waits for d and tells whether ctx still lasts.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return ctx.Err() == nil
	}
}

// inspectOwned inspects the worker's container: nil, nil when there is none,
// a NotOwnedError when the container of that name is not the provider's.
func (d *Driver) inspectOwned(ctx context.Context, ref worker.Ref) (*container.InspectResponse, error) {
	info, err := d.client.ContainerInspect(ctx, ref.Name)
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspecting container %q: %w", ref.Name, err)
	}
	if !worker.IsOwned(info.Config.Labels, ref.Name) {
		return nil, &worker.NotOwnedError{Ref: ref, Kind: "container"}
	}
	return &info, nil
}

// Read inspects the container once. Gone is nil, nil.
func (d *Driver) Read(ctx context.Context, ref worker.Ref) (*worker.Observed, error) {
	info, err := d.inspectOwned(ctx, ref)
	if info == nil || err != nil {
		return nil, err
	}
	return observe(*info, d.nodeName(ctx))
}

// nodeName is the daemon's host name, asked once per provider process.
func (d *Driver) nodeName(ctx context.Context) string {
	info, err := d.info.get(ctx, d.client)
	if err != nil {
		return ""
	}
	return info.Name
}

// Update changes CPU and memory of the running container; nothing else
// changes in place on Docker. A container of the worker's name that the
// provider does not own, or whose ID is not uid, is refused before anything
// changes; the update goes to that ID, not to the name.
func (d *Driver) Update(ctx context.Context, s *worker.Spec, uid string) (*worker.Observed, error) {
	var update container.UpdateConfig
	if err := applyResources(&update.Resources, s.Resources); err != nil {
		return nil, err
	}
	ref := worker.RefOf(s)
	live, err := d.inspectOwned(ctx, ref)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return nil, fmt.Errorf("container %q is gone; a refresh will plan to create it again", s.Name)
	}
	if err := worker.CheckIdentity(ref, "container", uid, live.ID); err != nil {
		return nil, err
	}
	if _, err := d.client.ContainerUpdate(ctx, live.ID, update); err != nil {
		return nil, fmt.Errorf("updating container %q: %w", s.Name, err)
	}
	return d.Read(ctx, ref)
}

// Delete stops the container gracefully, within the context's deadline, then
// removes it with its anonymous volumes. Gone already is success; a container
// the provider does not own, or whose ID is not uid, is left alone. Stop and
// remove go to the ID that was checked, not to the name.
func (d *Driver) Delete(ctx context.Context, ref worker.Ref, uid string) error {
	info, err := d.inspectOwned(ctx, ref)
	if info == nil || err != nil {
		return err
	}
	if err := worker.CheckIdentity(ref, "container", uid, info.ID); err != nil {
		return err
	}
	if info.State.Running {
		stop := container.StopOptions{Timeout: stopTimeout(ctx, info.Config.StopTimeout)}
		if err := d.client.ContainerStop(ctx, info.ID, stop); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("stopping container %q: %w", ref.Name, err)
		}
	}
	err = d.client.ContainerRemove(ctx, info.ID, container.RemoveOptions{RemoveVolumes: true, Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %q: %w", ref.Name, err)
	}
	return nil
}

// stopTimeout gives the process its termination_grace_period (the
// container's StopTimeout), else Docker's usual 10 s, to exit; less when
// the delete deadline is nearer, keeping half the time left for the removal.
func stopTimeout(ctx context.Context, grace *int) *int {
	seconds := 10
	if grace != nil {
		seconds = *grace
	}
	if deadline, ok := ctx.Deadline(); ok {
		if left := int(time.Until(deadline).Seconds()) / 2; left < seconds {
			seconds = max(left, 0)
		}
	}
	return &seconds
}
