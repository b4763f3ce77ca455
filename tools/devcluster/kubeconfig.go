package main

import (
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const contextName = "devcluster"

// Credentials authenticate a kubeconfig user: a client certificate or a bearer token.
type Credentials struct {
	ClientCertPEM []byte
	ClientKeyPEM  []byte
	Token         string
}

// WriteKubeconfig writes a single-context kubeconfig for server. An empty
// namespace leaves the context's default ("default").
func WriteKubeconfig(path, server string, caPEM []byte, creds Credentials, namespace string) error {
	config := clientcmdapi.NewConfig()
	config.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	config.AuthInfos[contextName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: creds.ClientCertPEM,
		ClientKeyData:         creds.ClientKeyPEM,
		Token:                 creds.Token,
	}
	config.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName, Namespace: namespace}
	config.CurrentContext = contextName
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// WriteToFile keeps an existing file's mode; kubeconfigs hold secrets.
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// restConfig is the in-process client configuration matching a kubeconfig.
func restConfig(server string, caPEM []byte, creds Credentials) *rest.Config {
	return &rest.Config{
		Host:        server,
		BearerToken: creds.Token,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   caPEM,
			CertData: creds.ClientCertPEM,
			KeyData:  creds.ClientKeyPEM,
		},
		// The simulator and the readiness checks issue bursts of requests at
		// start; the defaults (5 QPS) would stretch start-up by seconds.
		QPS:   200,
		Burst: 400,
	}
}
