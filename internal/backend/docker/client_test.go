package docker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DOCKER_HOST=ssh://... from the environment dials through docker/cli's ssh
// connection helper, as the provider's host attribute does: the dial runs
// ssh, whose refusal the error reports, or, when the ping's write loses the
// race with ssh's exit, the helper's placeholder host does.
func TestNewClientSSHHostFromEnvironmentUsesConnectionHelper(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client on PATH for the connection helper to run")
	}
	for name, cfg := range map[string]Config{
		"environment": {},
		"attribute":   {Host: "ssh://user@127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", "ssh://user@127.0.0.1:1")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cli, err := NewClient(ctx, cfg)
			if err == nil {
				_ = cli.Close()
				t.Fatal("NewClient succeeded against a closed port")
			}
			if msg := err.Error(); !strings.Contains(msg, "ssh: connect to host 127.0.0.1 port 1") && !strings.Contains(msg, "docker.example.com") {
				t.Errorf("error does not come from the ssh helper's dial: %v", err)
			}
		})
	}
}

// ssh_opts reach the ssh command line: ssh reports the configuration file
// that -F names and that does not exist. When the ping's write loses the
// race with ssh's exit, the error lacks ssh's words: a few tries tell.
func TestNewClientSSHOptsReachTheSSHCommand(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client on PATH for the connection helper to run")
	}
	var errs []string
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cli, err := NewClient(ctx, Config{Host: "ssh://user@127.0.0.1:1", SSHOpts: []string{"-F", "/nonexistent/hodei-ssh-config"}})
		cancel()
		if err == nil {
			_ = cli.Close()
			t.Fatal("NewClient succeeded with an ssh configuration file that does not exist")
		}
		if strings.Contains(err.Error(), "/nonexistent/hodei-ssh-config") {
			return
		}
		errs = append(errs, err.Error())
	}
	t.Errorf("no error comes from ssh run with the extra options: %q", errs)
}
