package worker

import (
	"fmt"
	"strings"
)

// Path is an attribute path in the configuration: block and attribute names
// (string) and list positions (int).
type Path []any

// Child is the path extended by steps.
func (p Path) Child(steps ...any) Path {
	out := make(Path, len(p), len(p)+len(steps))
	copy(out, p)
	return append(out, steps...)
}

func (p Path) String() string {
	var b strings.Builder
	for i, step := range p {
		switch s := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, s)
		}
	}
	return b.String()
}

// Problem is one finding about a spec, tied to the attribute it is about.
type Problem struct {
	Path    Path
	Summary string
	Detail  string
	Warning bool
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.Path, p.Summary, p.Detail) }

// Problems is a list of findings.
type Problems []Problem

func (ps *Problems) errorf(path Path, summary, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Summary: summary, Detail: fmt.Sprintf(format, args...)})
}

// Warnf records a warning.
func (ps *Problems) Warnf(path Path, summary, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Summary: summary, Detail: fmt.Sprintf(format, args...), Warning: true})
}

// Errorf records an error: a backend's Check refuses what it cannot run.
func (ps *Problems) Errorf(path Path, summary, format string, args ...any) {
	ps.errorf(path, summary, format, args...)
}
