package provider

import (
	"fmt"
	"net/http"
	"os"
)

// EnvRequestLog names a file to which the provider appends one line per API
// request it sends to a backend: "<backend> <METHOD> <path>". Benchmarks and
// tests count requests with it at the client transport.
const EnvRequestLog = "HODEI_REQUEST_LOG"

// requestLog appends a line per request; one write per line keeps lines
// whole when several provider processes share the file.
type requestLog struct {
	file *os.File
}

func openRequestLog(path string) (*requestLog, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvRequestLog, err)
	}
	return &requestLog{file: f}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// wrap returns a transport wrapper that records each request of backend.
func (l *requestLog) wrap(backend string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			_, _ = fmt.Fprintf(l.file, "%s %s %s\n", backend, r.Method, r.URL.Path)
			return next.RoundTrip(r)
		})
	}
}
