package main

import "fmt"

// canonicalSpec stands in for the canonical spec the provider stores on
// each object (a label on a container, an annotation on a pod): a JSON text
// of about the same size.
func canonicalSpec(name, backend, image string) string {
	return fmt.Sprintf(`{"name":%q,"backend":%q,"image":%q,"command":["sh","-c","trap 'exit 0' TERM; sleep 2147483647 & wait"],"resources":{"cpu":"10m","memory":"16Mi"},"restart_policy":"Always"}`,
		name, backend, image)
}
