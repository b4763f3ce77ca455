package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAccRealNode_volumes: each kind of volume as the process sees it. A
// Memory emptyDir is a tmpfs of its size_limit, a disk one is not a tmpfs;
// a host_path shows the host directory's file, and a writable one takes
// the process's file back to the host; a read_only one refuses a write;
// Secret and ConfigMap volumes hold their keys' values, the Secret's
// items at their paths with default_mode. (The kubelet enforces a disk
// emptyDir's size_limit by evicting the pod, once its volume statistics,
// gathered every one to two minutes, show the excess: seen after 1 and 4
// minutes on the real nodes, too slow for this suite.)
func TestAccRealNode_volumes(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ctx := context.Background()
	ns := testNamespace(t, cli, nil)
	password, weights := "pw-"+randomName("files"), "weights-"+randomName("model")
	_, err := cli.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "files"},
		StringData: map[string]string{"password": password, "other": "not mounted"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "conf"},
		Data: map[string]string{"app.conf": "level=debug"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// The kubelet runs on this machine: a host_path is a directory here.
	models, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	require.NoError(t, os.WriteFile(filepath.Join(models, "model.bin"), []byte(weights), 0o600))

	const name = "volumes"
	script := strings.Join([]string{
		`grep -E ' /(scratch|disk) ' /proc/mounts | awk '{print "mount " $2 " " $3 " " $4}'`,
		`df -k /scratch | awk 'NR==2 {print "scratch-kib " $2}'`,
		`echo disk > /disk/probe && echo "disk-write=ok"`,
		`echo "models=$(cat /models/model.bin)"`,
		`err=$(touch /models/new 2>&1) && echo "models-write=ok" || echo "models-write=refused: $err"`,
		`echo from-the-pod > /out/written && echo "out-write=ok"`,
		`echo "creds=$(ls /creds)"`,
		`echo "password=$(cat /creds/db/password)"`,
		`echo "password-mode=$(stat -L -c %a /creds/db/password)"`,
		`echo "conf=$(cat /etc/conf/app.conf)"`,
	}, "; ")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) + realWorker(name, ns, script, fmt.Sprintf(`
  volume {
    name       = "scratch"
    mount_path = "/scratch"
    ephemeral {
      medium     = "Memory"
      size_limit = "16Mi"
    }
  }
  volume {
    name       = "disk"
    mount_path = "/disk"
    ephemeral {}
  }
  volume {
    name       = "models"
    mount_path = "/models"
    read_only  = true
    host_path {
      path = %q
      type = "Directory"
    }
  }
  volume {
    name       = "out"
    mount_path = "/out"
    host_path {
      path = %q
      type = "DirectoryOrCreate"
    }
  }
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret {
      name         = "files"
      default_mode = "0440"
      items {
        key  = "password"
        path = "db/password"
      }
    }
  }
  volume {
    name       = "conf"
    mount_path = "/etc/conf"
    config_map { name = "conf" }
  }`, models, out)),
			Check: func(*terraform.State) error {
				lines := outputLines(processOutput(t, cli, ns, name))
				mounts := map[string][]string{}
				for _, line := range lines {
					if f := strings.Fields(line); len(f) == 4 && f[0] == "mount" {
						mounts[f[1]] = f[2:]
					}
				}
				require.Contains(t, mounts, "/scratch", "the Memory emptyDir is mounted: %v", lines)
				assert.Equal(t, "tmpfs", mounts["/scratch"][0], "medium Memory is a tmpfs")
				assert.Contains(t, strings.Split(mounts["/scratch"][1], ","), "size=16384k", "of the size limit")
				assert.Contains(t, lines, "scratch-kib 16384", "df sees 16 MiB")
				require.Contains(t, mounts, "/disk", "the disk emptyDir is mounted: %v", lines)
				assert.NotEqual(t, "tmpfs", mounts["/disk"][0], "medium \"\" is the node's disk")
				for _, want := range []string{
					"disk-write=ok",
					"models=" + weights, "models-write=refused: touch: /models/new: Read-only file system",
					"out-write=ok",
					"creds=db", "password=" + password, "password-mode=440",
					"conf=level=debug",
				} {
					assert.Contains(t, lines, want)
				}
				written, err := os.ReadFile(filepath.Join(out, "written"))
				require.NoError(t, err, "the process's file is in the host directory")
				assert.Equal(t, "from-the-pod\n", string(written))
				assert.NoFileExists(t, filepath.Join(models, "new"), "the read-only host_path took no file")
				return nil
			},
		}},
	})
}
