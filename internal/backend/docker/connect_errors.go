package docker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
)

// unreachable is the error of a daemon that did not answer the ping: the
// address tried and the setting it came from, and for a TLS failure which
// setting to fix, before the client's own error.
func unreachable(ep endpoint, err error) error {
	from := "address from " + ep.hostFrom
	at := fmt.Sprintf("the Docker daemon at %s (%s)", ep.Host, from)
	var verify *tls.CertificateVerificationError
	var op *net.OpError
	switch {
	case errors.As(err, &verify):
		setting := tlsSetting(ep.tlsFrom, "ca")
		if ep.TLSData == nil || len(ep.TLSData.CA) == 0 {
			return fmt.Errorf("%s presented a certificate that the system's root CAs do not verify: set %s to the CA that signed it: %w", at, setting, err)
		}
		return fmt.Errorf("%s presented a certificate that the CA in %s did not sign: set %s to the CA that signed it: %w", at, setting, setting, err)
	case errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate"):
		// The daemon's TLS alert: it verifies clients (--tlsverify) and
		// got no certificate, or one its CA did not sign.
		fix := tlsSetting(ep.tlsFrom, "cert")
		if ep.TLSData == nil || len(ep.TLSData.Cert) == 0 {
			return fmt.Errorf("%s requires a client certificate, and none is set: set %s to a certificate and key that the daemon's CA signed: %w", at, fix, err)
		}
		return fmt.Errorf("%s refused the client certificate of %s: set %s to a certificate and key that the daemon's CA signed: %w", at, ep.tlsFrom, fix, err)
	case ep.tlsFrom == "" && (strings.Contains(err.Error(), "HTTP request to an HTTPS server") || strings.Contains(err.Error(), "TLS-enabled daemon")):
		return fmt.Errorf("%s speaks TLS, and no TLS material is set: set docker.cert_path, or %s, or DOCKER_CERT_PATH with DOCKER_TLS_VERIFY=1: %w",
			at, settingMaterial, err)
	}
	return fmt.Errorf("the Docker daemon at %s is unreachable (%s): %w", ep.Host, from, err)
}

// tlsSetting names where the CA ("ca") or the client certificate ("cert")
// of the TLS material from source is set.
func tlsSetting(source, part string) string {
	file := map[string]string{"ca": "ca.pem", "cert": "cert.pem and key.pem"}[part]
	switch source {
	case settingCertPath:
		return file + " in " + settingCertPath
	case settingMaterial, "":
		if part == "ca" {
			return "docker.ca_material"
		}
		return "docker.cert_material and docker.key_material (or docker.cert_path)"
	}
	return file + " of " + source
}

// isSocket tells a local socket, which takes no TLS, from a network address.
func isSocket(host string) bool {
	scheme, _, _ := strings.Cut(host, "://")
	return scheme == "unix" || scheme == "npipe" || scheme == "fd"
}
