// Command execplugin is a client-go credential plugin for the tests: each
// run makes a new bearer token, adds it to a devcluster --token-file (so the
// API server accepts it until the expiry the plugin chose), records the run,
// and prints the ExecCredential. A run's line in EXECPLUGIN_RUNS is its time
// and its parent's pid: the process whose client-go ran it. Its settings come from the environment,
// as a kubeconfig's exec env gives them.
//
//	EXECPLUGIN_TOKEN_FILE  devcluster's token file (required)
//	EXECPLUGIN_RUNS        a file that gets one line per run (required)
//	EXECPLUGIN_LIFETIME    a Go duration; when set, the credential expires
//	                       then and the API server refuses it a second later
//	                       (real plugins also report an expiry a little
//	                       earlier than the server's)
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// serverGrace is how much longer the API server accepts a token than the
// plugin says it lives.
const serverGrace = time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "execplugin:", err)
		os.Exit(1)
	}
}

func run() error {
	user := flag.String("user", "exec-user", "user name the token stands for")
	flag.Parse()
	// client-go says which API version it expects in KUBERNETES_EXEC_INFO.
	var info struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("KUBERNETES_EXEC_INFO")), &info); err != nil {
		return fmt.Errorf("KUBERNETES_EXEC_INFO: %w", err)
	}
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return err
	}
	token := "exec-" + hex.EncodeToString(random)
	status := map[string]any{"token": token}
	serverExpiry := ""
	if lifetime := os.Getenv("EXECPLUGIN_LIFETIME"); lifetime != "" {
		d, err := time.ParseDuration(lifetime)
		if err != nil {
			return fmt.Errorf("EXECPLUGIN_LIFETIME: %w", err)
		}
		expires := time.Now().Add(d).UTC()
		status["expirationTimestamp"] = expires.Format(time.RFC3339Nano)
		serverExpiry = expires.Add(serverGrace).Format(time.RFC3339Nano)
	}
	line := fmt.Sprintf("%s,%s,%s,\"system:masters\",%s\n", token, *user, *user, serverExpiry)
	if err := appendLine(os.Getenv("EXECPLUGIN_TOKEN_FILE"), line); err != nil {
		return err
	}
	if err := appendLine(os.Getenv("EXECPLUGIN_RUNS"), fmt.Sprintf("%s %d\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getppid())); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"apiVersion": info.APIVersion,
		"kind":       "ExecCredential",
		"status":     status,
	})
}

func appendLine(path, line string) error {
	if path == "" {
		return fmt.Errorf("EXECPLUGIN_TOKEN_FILE and EXECPLUGIN_RUNS must be set")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
