package provider

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: test
  user: {token: "t"}
contexts:
- name: test
  context: {cluster: test, user: test}
current-context: test
`

// A backend that could not be reached is tried again on the next use: the
// kubeconfig written after the first request is read by the second. The
// client made then is shared by every later caller.
func TestProviderDataRetriesFailedBackend(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	catalog, err := worker.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	data := &providerData{catalog: catalog, kubernetesConfig: kubernetes.Config{ConfigPaths: []string{kubeconfig}}}
	ctx := context.Background()

	if _, err := data.driver(ctx, worker.BackendKubernetes); err == nil {
		t.Fatal("first use succeeded without a kubeconfig")
	}
	if err := os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}

	const callers = 8
	drivers := make([]worker.Driver, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { drivers[i], errs[i] = data.driver(ctx, worker.BackendKubernetes) })
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("use after the kubeconfig was written: %v", errs[i])
		}
		if drivers[i] != drivers[0] {
			t.Fatalf("caller %d got another driver than caller 0: the client is not shared", i)
		}
	}
}
