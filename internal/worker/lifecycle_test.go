package worker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestValidateLifecycle(t *testing.T) {
	probe := func() *Readiness {
		return &Readiness{Exec: &ExecProbe{Command: []string{"true"}}, Period: "10s", FailureThreshold: 3, InitialDelay: "0s"}
	}
	for _, tc := range []struct {
		name   string
		change func(*Spec)
		path   string
	}{
		{"grace not a duration", func(s *Spec) { s.TerminationGracePeriod = "30" }, "termination_grace_period"},
		{"grace fractional", func(s *Spec) { s.TerminationGracePeriod = "1.5s" }, "termination_grace_period"},
		{"grace negative", func(s *Spec) { s.TerminationGracePeriod = "-1s" }, "termination_grace_period"},
		{"grace too long", func(s *Spec) { s.TerminationGracePeriod = "2h" }, "termination_grace_period"},
		{"no probe kind", func(s *Spec) { s.Readiness = probe(); s.Readiness.Exec = nil }, "readiness"},
		{"two probe kinds", func(s *Spec) { s.Readiness = probe(); s.Readiness.TCPSocket = &TCPSocketProbe{Port: 80} }, "readiness"},
		{"empty command", func(s *Spec) { s.Readiness = probe(); s.Readiness.Exec.Command = nil }, "readiness.exec.command"},
		{"period zero", func(s *Spec) { s.Readiness = probe(); s.Readiness.Period = "0s" }, "readiness.period"},
		{"threshold zero", func(s *Spec) { s.Readiness = probe(); s.Readiness.FailureThreshold = 0 }, "readiness.failure_threshold"},
		{"http path relative", func(s *Spec) {
			s.Readiness = probe()
			s.Readiness.Exec, s.Readiness.HTTPGet = nil, &HTTPGetProbe{Path: "healthz", Port: 80, Scheme: "HTTP"}
		}, "readiness.http_get.path"},
		{"tcp port zero", func(s *Spec) { s.Readiness = probe(); s.Readiness.Exec, s.Readiness.TCPSocket = nil, &TCPSocketProbe{} }, "readiness.tcp_socket.port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.change(s)
			var paths []string
			for _, p := range Validate(s, Policy{}) {
				paths = append(paths, p.Path.String())
			}
			assert.Contains(t, paths, tc.path)
		})
	}
	s := validSpec()
	s.TerminationGracePeriod, s.Readiness = "0s", probe()
	assert.Empty(t, Validate(s, Policy{}))
	assert.Empty(t, CheckWaitFor(WaitReady, s))
	s.Readiness = nil
	assert.Len(t, CheckWaitFor(WaitReady, s), 1)
}

func TestLifecycleChangesReplaceAndCompareByValue(t *testing.T) {
	old := validSpec()
	old.TerminationGracePeriod = "60s"
	old.Readiness = &Readiness{Exec: &ExecProbe{Command: []string{"true"}}, Period: "1m", FailureThreshold: 3, InitialDelay: "0s"}
	same := *old
	same.TerminationGracePeriod = "1m"
	same.Readiness = &Readiness{Exec: &ExecProbe{Command: []string{"true"}}, Period: "60s", FailureThreshold: 3, InitialDelay: "0s"}
	assert.Empty(t, Changes(old, &same))
	changed := same
	changed.TerminationGracePeriod = "2m"
	changed.Readiness = &Readiness{Exec: &ExecProbe{Command: []string{"false"}}, Period: "60s", FailureThreshold: 3, InitialDelay: "0s"}
	assert.Equal(t, []Change{{Attribute: "termination_grace_period"}, {Attribute: "readiness"}}, Changes(old, &changed))
}

func TestGraceWithinDelete(t *testing.T) {
	assert.Empty(t, CheckGraceWithinDelete("", 2*time.Minute))
	assert.Empty(t, CheckGraceWithinDelete("1m", 2*time.Minute))
	warnings := CheckGraceWithinDelete("90s", 2*time.Minute)
	if assert.Len(t, warnings, 1) {
		assert.True(t, warnings[0].Warning)
		assert.Equal(t, "termination_grace_period", warnings[0].Path.String())
	}
}
