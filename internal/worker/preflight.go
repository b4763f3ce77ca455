package worker

import "context"

// Preflight is how the plan of a created (or replaced) worker checks it
// against its engine: the provider setting `preflight`.
type Preflight string

const (
	// PreflightOn reports what the engine would refuse as errors and what
	// it could probably not place as warnings.
	PreflightOn Preflight = "on"
	// PreflightStrict makes those warnings errors too.
	PreflightStrict Preflight = "strict"
	// PreflightOff asks the engine nothing at plan.
	PreflightOff Preflight = "off"
)

// PreflightModes are the values of the `preflight` setting.
var PreflightModes = []string{string(PreflightOn), string(PreflightStrict), string(PreflightOff)}

// Preflighter is a Driver that can tell, without making anything, what its
// engine would refuse or could not place if the worker were created now.
type Preflighter interface {
	Preflight(ctx context.Context, spec *Spec) PreflightReport
}

// PreflightReport is what a preflight found.
type PreflightReport struct {
	// Problems are the engine's refusals (errors) and what it could
	// probably not place (warnings).
	Problems Problems
	// Skipped are the checks that could not run; never errors, as the
	// apply may still succeed (a permission the plan lacks, an engine not
	// reachable yet).
	Skipped []SkippedCheck
}

// SkippedCheck says which check did not run, and why.
type SkippedCheck struct {
	Check  string
	Reason string
	// Quiet is for a reason that is common and harmless (an account that
	// may not list nodes): logged, not shown.
	Quiet bool
}
