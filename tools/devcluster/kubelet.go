package main

import (
	"context"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register" // the kubelet's JSON log format
	kubeletapp "k8s.io/kubernetes/cmd/kubelet/app"
)

// runKubelet runs the kubelet of k8s.io/kubernetes with args, as its own
// command does, and returns its exit code.
func runKubelet(args []string) int {
	command := kubeletapp.NewKubeletCommand(context.Background())
	command.SetArgs(args)
	return cli.Run(command)
}
