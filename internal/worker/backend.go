package worker

import (
	"context"
	"fmt"
)

// Driver makes workers real on one backend. Every call takes its deadline
// from ctx.
type Driver interface {
	// Create makes the worker and waits as waitFor says ("" is
	// DefaultWaitFor). A failed create leaves nothing behind.
	Create(ctx context.Context, spec *Spec, waitFor WaitFor) (*Observed, error)
	// Read returns nil, nil when the worker is gone.
	Read(ctx context.Context, ref Ref) (*Observed, error)
	// Update applies the changes that this backend makes in place.
	Update(ctx context.Context, spec *Spec) (*Observed, error)
	// Delete stops the worker and waits until it is gone; gone already is
	// success.
	Delete(ctx context.Context, ref Ref) error
}

// NotOwnedError says that an object with the worker's name exists but the
// provider did not make it.
type NotOwnedError struct {
	Ref  Ref
	Kind string
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("a %s named %q already exists and was not created by the hodei provider "+
		"(it lacks the label %s=%s); it is left untouched: rename the worker or remove that %s",
		e.Kind, e.Ref.Name, LabelManagedBy, ManagedByValue, e.Kind)
}
