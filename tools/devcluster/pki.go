package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is long because a --data-dir cluster may be reused for months.
const certValidity = 10 * 365 * 24 * time.Hour

// PKI holds the file paths of the cluster's certificates and keys. One CA
// signs the apiserver's serving certificate and every client certificate.
type PKI struct {
	Dir               string
	CACert            string
	CAKey             string
	ServingCert       string
	ServingKey        string
	ServiceAccountKey string
}

// clientIdentity is a client certificate's user and groups.
type clientIdentity struct {
	name   string // also the file name stem
	user   string
	groups []string
}

var (
	adminIdentity             = clientIdentity{name: "admin", user: "devcluster-admin", groups: []string{"system:masters"}}
	schedulerIdentity         = clientIdentity{name: "kube-scheduler", user: "system:kube-scheduler"}
	controllerManagerIdentity = clientIdentity{name: "kube-controller-manager", user: "system:kube-controller-manager"}
	// frontProxyIdentity is how kube-apiserver authenticates to aggregated
	// API servers and how the other components trust the headers it forwards.
	frontProxyIdentity = clientIdentity{name: "front-proxy-client", user: "front-proxy-client"}
	// kubeletClientIdentity is how kube-apiserver authenticates to the
	// simulated kubelet API, as it does to kubelets.
	kubeletClientIdentity = clientIdentity{name: "apiserver-kubelet-client", user: "kube-apiserver-kubelet-client", groups: []string{"kubeadm:cluster-admins"}}
)

// EnsurePKI creates whatever is missing in dir, keeping existing files so
// that a cluster restarted on the same --data-dir keeps its identity and its
// service account tokens stay valid.
func EnsurePKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{
		Dir:               dir,
		CACert:            filepath.Join(dir, "ca.crt"),
		CAKey:             filepath.Join(dir, "ca.key"),
		ServingCert:       filepath.Join(dir, "apiserver.crt"),
		ServingKey:        filepath.Join(dir, "apiserver.key"),
		ServiceAccountKey: filepath.Join(dir, "service-account.key"),
	}
	if !exists(p.CACert) || !exists(p.CAKey) {
		if err := p.createCA(); err != nil {
			return nil, err
		}
	}
	if !exists(p.ServiceAccountKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := writeKey(p.ServiceAccountKey, key); err != nil {
			return nil, err
		}
	}
	if !exists(p.ServingCert) || !exists(p.ServingKey) {
		template := &x509.Certificate{
			Subject:     pkix.Name{CommonName: "kube-apiserver"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.IPv4(10, 0, 0, 1)},
		}
		if err := p.issue(template, p.ServingCert, p.ServingKey); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ServingCertFiles returns the paths of a serving certificate and key named
// name for dnsNames and ips, issuing them on first use: the kubelets' and the
// image registry's, which clients check against the cluster CA.
func (p *PKI) ServingCertFiles(name string, dnsNames []string, ips []net.IP) (certPath, keyPath string, err error) {
	certPath = filepath.Join(p.Dir, name+".crt")
	keyPath = filepath.Join(p.Dir, name+".key")
	if !exists(certPath) || !exists(keyPath) {
		template := &x509.Certificate{
			Subject:     pkix.Name{CommonName: name},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			DNSNames:    dnsNames,
			IPAddresses: ips,
		}
		if err := p.issue(template, certPath, keyPath); err != nil {
			return "", "", err
		}
	}
	return certPath, keyPath, nil
}

// ClientCertFiles returns the paths of identity's certificate and key,
// issuing them on first use.
func (p *PKI) ClientCertFiles(identity clientIdentity) (certPath, keyPath string, err error) {
	certPath = filepath.Join(p.Dir, identity.name+".crt")
	keyPath = filepath.Join(p.Dir, identity.name+".key")
	if !exists(certPath) || !exists(keyPath) {
		template := &x509.Certificate{
			Subject:     pkix.Name{CommonName: identity.user, Organization: identity.groups},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if err := p.issue(template, certPath, keyPath); err != nil {
			return "", "", err
		}
	}
	return certPath, keyPath, nil
}

// ClientCert returns the PEM certificate and key of identity.
func (p *PKI) ClientCert(identity clientIdentity) (certPEM, keyPEM []byte, err error) {
	certPath, keyPath, err := p.ClientCertFiles(identity)
	if err != nil {
		return nil, nil, err
	}
	if certPEM, err = os.ReadFile(certPath); err != nil {
		return nil, nil, err
	}
	if keyPEM, err = os.ReadFile(keyPath); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// CACertPEM returns the CA certificate that clients trust.
func (p *PKI) CACertPEM() ([]byte, error) {
	return os.ReadFile(p.CACert)
}

func (p *PKI) createCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	template := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: "devcluster-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return err
	}
	if err := writeKey(p.CAKey, key); err != nil {
		return err
	}
	return writeCert(p.CACert, der)
}

// issue signs template with the CA and writes the certificate and a new key.
func (p *PKI) issue(template *x509.Certificate, certPath, keyPath string) error {
	caCert, caKey, err := p.loadCA()
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	template.SerialNumber = newSerial()
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(certValidity)
	template.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, key.Public(), caKey)
	if err != nil {
		return err
	}
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return writeCert(certPath, der)
}

func (p *PKI) loadCA() (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(p.CAKey)
	if err != nil {
		return nil, nil, err
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		return nil, nil, errors.New("the CA files in " + p.Dir + " are not PEM")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func newSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return serial
}

func writeCert(path string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
