package docker

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/docker/cli/cli/connhelper/ssh"
	"github.com/docker/docker/client"
)

// Checks of the docker block that need no daemon, for `terraform validate`.
// Their errors never quote key material.

// HostSchemes are the address schemes a daemon host may have here.
func HostSchemes() []string {
	if runtime.GOOS == "windows" {
		return []string{"npipe", "tcp", "ssh"}
	}
	return []string{"unix", "tcp", "ssh"}
}

// CheckHost reports a daemon address the client could not dial. It quotes
// the scheme only: an address may carry a user's password.
func CheckHost(host string) error {
	scheme, _, found := strings.Cut(host, "://")
	ok := false
	for _, s := range HostSchemes() {
		ok = ok || (found && scheme == s)
	}
	if !ok {
		schemes := HostSchemes()
		return fmt.Errorf("the address must start with %s://, %s:// or %s://", schemes[0], schemes[1], schemes[2])
	}
	if scheme == "ssh" {
		_, err := ssh.ParseURL(host)
		return err
	}
	_, err := client.ParseHostURL(host)
	return err
}

// CheckCertificates reports PEM data that holds no certificate, or a block
// that is not one or does not parse.
func CheckCertificates(data string) error {
	rest, n := []byte(data), 0
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		rest, n = next, n+1
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d is a %s, not a CERTIFICATE", n, block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("PEM block %d: %w", n, err)
		}
	}
	if n == 0 {
		return errors.New("no PEM-encoded certificate found")
	}
	return nil
}

// CheckPrivateKey reports PEM data whose first block is not an unencrypted
// private key that parses.
func CheckPrivateKey(data string) error {
	block, _ := pem.Decode([]byte(data))
	if block == nil {
		return errors.New("no PEM-encoded private key found")
	}
	if x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // detecting, not decrypting
		return errors.New("the key is encrypted; Docker clients take unencrypted keys only")
	}
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		_, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		_, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		_, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return fmt.Errorf("the PEM block is a %s, not a PRIVATE KEY", block.Type)
	}
	if err != nil {
		return errors.New("the private key does not parse") // x509's reason may quote bytes
	}
	return nil
}

// CheckKeyPair reports a client key that is not the certificate's.
func CheckKeyPair(cert, key string) error {
	if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
		return errors.New("the private key does not match the certificate's public key")
	}
	return nil
}
