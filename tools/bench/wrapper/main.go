// Command wrapper stands in for terraform-provider-hodei under a dev
// override: it runs the real provider (HODEI_BENCH_PROVIDER) as its child
// with the same stdin, stdout, stderr and environment, so the go-plugin
// handshake passes through, waits for it, and appends the child's peak
// resident set size in KiB (ru_maxrss) to HODEI_BENCH_RSS_FILE.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	provider := os.Getenv("HODEI_BENCH_PROVIDER")
	if provider == "" {
		fmt.Fprintln(os.Stderr, "wrapper: HODEI_BENCH_PROVIDER is not set")
		os.Exit(2)
	}
	cmd := exec.Command(provider, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	// Signals go to the provider; the wrapper lives until it exits.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "wrapper:", err)
		os.Exit(2)
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if path := os.Getenv("HODEI_BENCH_RSS_FILE"); path != "" {
			if f, ferr := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil {
				_, _ = fmt.Fprintf(f, "%d %.3f %.3f\n", ru.Maxrss, tv(ru.Utime), tv(ru.Stime))
				_ = f.Close()
			}
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		os.Exit(1)
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
