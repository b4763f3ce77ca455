package docker

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Bounds of the shared event subscription.
const (
	// eventsLinger keeps the subscription open this long after its last
	// wait ends: the next create of an apply comes within milliseconds, and
	// an idle provider holds no stream.
	eventsLinger = time.Second
	// eventsReplay asks a new subscription for the events of this recent
	// past too, so that one opened as a wait begins misses nothing.
	eventsReplay = 5 * time.Second
)

// containerEvents shares one subscription to the daemon's events of the
// provider's containers among all the waits of a provider process, instead
// of a stream per create (issue 16).
type containerEvents struct {
	client *client.Client

	mu     sync.Mutex
	waits  map[string]map[*eventWait]struct{} // by container ID
	stream *eventStream                       // the open subscription; nil when there is none
	idle   *time.Timer
}

type eventStream struct{ cancel context.CancelFunc }

// eventWait is one wait's share: its container's events of the actions it
// asked for, and the error that ended the subscription. Each channel holds
// one: an event only prompts the wait to look.
type eventWait struct {
	actions []events.Action
	msgs    chan events.Message
	errs    chan error
}

func newContainerEvents(cli *client.Client) *containerEvents {
	return &containerEvents{client: cli, waits: map[string]map[*eventWait]struct{}{}}
}

// watch delivers container id's events of the given actions (a prefix
// match, as health_status events carry the status after the action) until
// stop is called.
func (e *containerEvents) watch(id string, actions ...events.Action) (msgs <-chan events.Message, errs <-chan error, stop func()) {
	w := &eventWait{actions: actions, msgs: make(chan events.Message, 1), errs: make(chan error, 1)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.idle != nil {
		e.idle.Stop()
		e.idle = nil
	}
	if e.stream == nil {
		e.subscribe()
	}
	if e.waits[id] == nil {
		e.waits[id] = map[*eventWait]struct{}{}
	}
	e.waits[id][w] = struct{}{}
	return w.msgs, w.errs, func() { e.unwatch(id, w) }
}

func (e *containerEvents) unwatch(id string, w *eventWait) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.waits[id], w)
	if len(e.waits[id]) == 0 {
		delete(e.waits, id)
	}
	if len(e.waits) == 0 && e.stream != nil && e.idle == nil {
		e.idle = time.AfterFunc(eventsLinger, e.closeIfIdle)
	}
}

func (e *containerEvents) closeIfIdle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.idle = nil
	if len(e.waits) == 0 && e.stream != nil {
		e.stream.cancel()
		e.stream = nil
	}
}

// subscribe opens the stream; e.mu is held.
func (e *containerEvents) subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	msgs, errs := e.client.Events(ctx, events.ListOptions{
		Since: strconv.FormatInt(time.Now().Add(-eventsReplay).Unix(), 10),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("label", worker.LabelManagedBy+"="+worker.ManagedByValue),
			filters.Arg("event", string(events.ActionDie)),
			filters.Arg("event", string(events.ActionDestroy)),
			filters.Arg("event", string(events.ActionHealthStatus)),
		),
	})
	e.stream = &eventStream{cancel: cancel}
	go e.dispatch(ctx, e.stream, msgs, errs)
}

func (e *containerEvents) dispatch(ctx context.Context, s *eventStream, msgs <-chan events.Message, errs <-chan error) {
	for {
		select {
		case m := <-msgs:
			e.deliver(m)
		case err := <-errs:
			if ctx.Err() != nil {
				return
			}
			e.fail(s, err)
			return
		}
	}
}

func (e *containerEvents) deliver(m events.Message) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for w := range e.waits[m.Actor.ID] {
		if !w.wants(m.Action) {
			continue
		}
		select {
		case w.msgs <- m:
		default: // one prompt is already pending
		}
	}
}

// fail hands the error that ended the stream to every wait; the next watch
// subscribes again.
func (e *containerEvents) fail(s *eventStream, err error) {
	s.cancel()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stream != s {
		return // closed meanwhile; its waits belong to a newer stream
	}
	e.stream = nil
	for _, ws := range e.waits {
		for w := range ws {
			select {
			case w.errs <- err:
			default:
			}
		}
	}
}

func (w *eventWait) wants(action events.Action) bool {
	for _, a := range w.actions {
		if strings.HasPrefix(string(action), string(a)) {
			return true
		}
	}
	return false
}
