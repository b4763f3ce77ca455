package main

import (
	"context"
	"fmt"
	"net"
	"reflect"
	"time"
)

// runningComponent is a control-plane component running in a goroutine.
type runningComponent struct {
	name string
	done chan struct{}
	err  error // Run's result, set before done is closed
}

func runComponent(name string, run func() error) *runningComponent {
	component := &runningComponent{name: name, done: make(chan struct{})}
	go func() {
		defer close(component.done)
		component.err = run()
	}()
	return component
}

func (c *runningComponent) stopped() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *runningComponent) exitError() error {
	if c.err == nil {
		return fmt.Errorf("%s stopped", c.name)
	}
	return fmt.Errorf("%s stopped: %w", c.name, c.err)
}

// loopbackListener listens on a free 127.0.0.1 port and returns that port.
func loopbackListener() (net.Listener, int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr, ok := listener.Addr().(*net.TCPAddr)
	if !ok {
		listener.Close()
		return nil, 0, fmt.Errorf("listener address %s is not TCP", listener.Addr())
	}
	return listener, addr.Port, nil
}

// firstStopped waits until ctx ends (nil) or a component stops by itself (that one).
func firstStopped(ctx context.Context, components []*runningComponent) *runningComponent {
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
	for _, component := range components {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(component.done)})
	}
	chosen, _, _ := reflect.Select(cases)
	if chosen == 0 {
		return nil
	}
	return components[chosen-1]
}

// waitAll waits for every component to stop, at most timeout in all.
func waitAll(components []*runningComponent, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for _, component := range components {
		select {
		case <-component.done:
		case <-deadline:
			return false
		}
	}
	return true
}
