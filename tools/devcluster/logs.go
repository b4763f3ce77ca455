package main

import (
	"flag"
	"path/filepath"

	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
)

// configureComponentLogs sends the components' klog output to
// components.log in dataDir, or to stderr when verbose. Their start-up is
// chatty, and the make targets show the log tail on failure.
func configureComponentLogs(dataDir string, verbose bool) error {
	// Three components share this process and each may apply logging
	// settings; unchanged re-application must not be an error.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
	if verbose {
		return nil
	}
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	for name, value := range map[string]string{
		"logtostderr":     "false",
		"alsologtostderr": "false",
		"stderrthreshold": "FATAL",
		"one_output":      "true",
		"log_file":        filepath.Join(dataDir, "components.log"),
	} {
		if err := flags.Set(name, value); err != nil {
			return err
		}
	}
	return nil
}
