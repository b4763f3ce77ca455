package main

import (
	"fmt"
	"strconv"
	"strings"
)

// canonicalSpec stands in for the canonical spec the provider stores on
// each object (a label on a container, an annotation on a pod): a JSON text
// of about the same size.
func canonicalSpec(name, backend, image string) string {
	return fmt.Sprintf(`{"name":%q,"backend":%q,"image":%q,"command":[%s],"resources":{"cpu":%q,"memory":%q},"restart_policy":"Always"}`,
		name, backend, image, strings.Join(quoted(workerCommand), ","), workerCPU, workerMem)
}

// quoted is each value as a double-quoted string, as HCL and JSON both read
// the worker's command.
func quoted(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strconv.Quote(v)
	}
	return out
}

// realCanonicalSpec is canonicalSpec for the real-node step's worker, whose
// stored spec also holds its scheduling.
func realCanonicalSpec(name string) string {
	return strings.TrimSuffix(canonicalSpec(name, "kubernetes", realImage), "}") +
		fmt.Sprintf(`,"scheduling":{"node_selector":{%q:"true"},"tolerations":[{"key":%q,"operator":"Equal","value":"true","effect":"NoSchedule"}]}}`, realNodeLabel, realNodeLabel)
}
