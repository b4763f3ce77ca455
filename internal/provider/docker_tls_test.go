package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Daemon authentication as the Docker CLI does it, against a private
// dockerd of the test that listens on 127.0.0.1 with --tlsverify: TLS
// material as PEM contents, as a folder, from the environment and from a
// Docker context; and the errors of a client without the right material.

// pemPair is a certificate and its key, PEM-encoded.
type pemPair struct{ cert, key string }

// testCA is a certificate authority made in the test.
type testCA struct {
	pemPair
	x509 *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testCA{pemPair: encodePair(t, der, key), x509: cert, key: key}
}

// issue signs a server certificate for 127.0.0.1, or a client certificate.
func (ca testCA) issue(t *testing.T, name string, server bool) pemPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.x509, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return encodePair(t, der, key)
}

func encodePair(t *testing.T, der []byte, key *ecdsa.PrivateKey) pemPair {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pemPair{
		cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}
}

// writeCertDir writes ca.pem, cert.pem and key.pem, as docker --tlsverify
// and DOCKER_CERT_PATH expect them.
func writeCertDir(t *testing.T, ca string, client pemPair) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"ca.pem": ca, "cert.pem": client.cert, "key.pem": client.key} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	require.True(t, ok, "a TCP listener has a TCP address")
	return addr.Port
}

// spaced matches text with any run of white space where it has a space:
// the CLI wraps long diagnostics.
func spaced(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// keyNeedles are the lines of a PEM key's body, so that a key printed with
// escaped newlines (JSON, %q) is found too.
func keyNeedles(key string) secrets {
	s := secrets{key: key}
	for _, line := range strings.Split(key, "\n") {
		if len(line) >= 20 && !strings.HasPrefix(line, "-----") {
			s.needles = append(s.needles, line)
		}
	}
	return s
}

// quickWorker is a worker whose process ends on SIGTERM, so that a destroy
// takes no stop timeout.
func quickWorker(name string) string {
	return fmt.Sprintf(`
resource "hodei_worker" "test" {
  name    = %q
  image   = %q
  command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
}
`, name, testImage)
}

func TestAccDockerTLS_daemonAuthentication(t *testing.T) {
	ca, otherCA := newTestCA(t, "hodei-test-ca"), newTestCA(t, "hodei-other-ca")
	server, clientPair, strangerPair := ca.issue(t, "dockerd", true), ca.issue(t, "hodei", false), otherCA.issue(t, "stranger", false)
	serverDir := writeCertDir(t, ca.cert, server)
	clientDir := writeCertDir(t, ca.cert, clientPair)
	host := fmt.Sprintf("tcp://127.0.0.1:%d", freeLoopbackPort(t))
	startPrivateDocker(t, "--host="+host, "--tlsverify",
		"--tlscacert="+filepath.Join(serverDir, "ca.pem"), "--tlscert="+filepath.Join(serverDir, "cert.pem"), "--tlskey="+filepath.Join(serverDir, "key.pem"))

	// The test's own view of the daemon, with the same TLS material.
	tlsCli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation(),
		client.WithTLSClientConfig(filepath.Join(clientDir, "ca.pem"), filepath.Join(clientDir, "cert.pem"), filepath.Join(clientDir, "key.pem")))
	require.NoError(t, err)
	t.Cleanup(func() { _ = tlsCli.Close() })

	// runs applies a worker through the provider block and checks, through
	// tlsCli, that its container runs there; then destroys it.
	runs := func(t *testing.T, providerBlock string) {
		name := randomName("tls")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(tlsCli, name) },
			Steps: []resource.TestStep{{
				Config: providerBlock + quickWorker(name),
				Check: func(*terraform.State) error {
					info := inspect(t, tlsCli, name)
					require.NotNil(t, info.State)
					assert.True(t, info.State.Running, "the worker's container runs on the TLS daemon")
					return nil
				},
			}},
		})
	}
	// fails plans and applies a worker through the provider block, which
	// must fail with the error expected; no container is left.
	fails := func(t *testing.T, providerBlock string, expect *regexp.Regexp) {
		name := randomName("tlsbad")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(tlsCli, name) },
			Steps:                    []resource.TestStep{{Config: providerBlock + quickWorker(name), ExpectError: expect}},
		})
	}
	material := func(caPEM string, pair pemPair) string {
		return fmt.Sprintf("provider \"hodei\" {\n  docker {\n    host          = %q\n    ca_material   = %q\n    cert_material = %q\n    key_material  = %q\n  }\n}\n",
			host, caPEM, pair.cert, pair.key)
	}

	t.Run("pem_material", func(t *testing.T) {
		runs(t, material(ca.cert, clientPair))
	})
	t.Run("pem_material_through_the_request_log", func(t *testing.T) {
		// The counting transport wraps the TLS one and still speaks https.
		log := filepath.Join(t.TempDir(), "requests.log")
		t.Setenv(EnvRequestLog, log)
		runs(t, material(ca.cert, clientPair))
		data, err := os.ReadFile(log)
		require.NoError(t, err)
		assert.Contains(t, string(data), "docker HEAD /_ping", "requests went through the counting transport")
	})
	t.Run("pem_material_known_only_after_apply", func(t *testing.T) {
		// The material is another resource's output, as from a secret
		// store: the plan does not know it, the apply does.
		runs(t, fmt.Sprintf(`
resource "terraform_data" "tls" {
  input = { ca = %q, cert = %q, key = %q }
}
provider "hodei" {
  docker {
    host          = %q
    ca_material   = terraform_data.tls.output.ca
    cert_material = terraform_data.tls.output.cert
    key_material  = terraform_data.tls.output.key
  }
}
`, ca.cert, clientPair.cert, clientPair.key, host))
	})
	t.Run("cert_path", func(t *testing.T) {
		runs(t, fmt.Sprintf("provider \"hodei\" {\n  docker {\n    host      = %q\n    cert_path = %q\n  }\n}\n", host, clientDir))
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", host)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", clientDir)
		runs(t, `provider "hodei" {}`+"\n")
	})

	t.Run("docker_context", func(t *testing.T) {
		// A context made as a user makes one, by the Docker CLI, in a
		// configuration folder of the test's.
		configDir := t.TempDir()
		dockerCLI := func(args ...string) {
			cmd := exec.Command("docker", args...)
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+configDir, "DOCKER_HOST=", "DOCKER_CONTEXT=")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "docker %s: %s", strings.Join(args, " "), out)
		}
		dockerCLI("context", "create", "hodei-tls", "--docker", fmt.Sprintf("host=%s,ca=%s,cert=%s,key=%s", host,
			filepath.Join(clientDir, "ca.pem"), filepath.Join(clientDir, "cert.pem"), filepath.Join(clientDir, "key.pem")))
		t.Setenv("DOCKER_CONFIG", configDir)
		t.Setenv("DOCKER_HOST", "")
		t.Run("DOCKER_CONTEXT", func(t *testing.T) {
			t.Setenv("DOCKER_CONTEXT", "hodei-tls")
			runs(t, `provider "hodei" {}`+"\n")
		})
		t.Run("current_context", func(t *testing.T) {
			dockerCLI("context", "use", "hodei-tls")
			t.Setenv("DOCKER_CONTEXT", "")
			runs(t, `provider "hodei" {}`+"\n")
		})
	})

	t.Run("without_client_certificate", func(t *testing.T) {
		fails(t, fmt.Sprintf("provider \"hodei\" {\n  docker {\n    host        = %q\n    ca_material = %q\n  }\n}\n", host, ca.cert),
			spaced(fmt.Sprintf("the Docker daemon at %s (address from docker.host) requires a client certificate, and none is set: set docker.cert_material and docker.key_material", host)))
	})
	t.Run("client_certificate_of_another_ca", func(t *testing.T) {
		fails(t, material(ca.cert, strangerPair),
			spaced(fmt.Sprintf("the Docker daemon at %s (address from docker.host) refused the client certificate of docker.ca_material, docker.cert_material and docker.key_material: set docker.cert_material and docker.key_material", host)))
	})
	t.Run("ca_that_did_not_sign_the_daemon", func(t *testing.T) {
		fails(t, material(otherCA.cert, clientPair),
			spaced(fmt.Sprintf("the Docker daemon at %s (address from docker.host) presented a certificate that the CA in docker.ca_material did not sign: set docker.ca_material", host)))
	})
	t.Run("without_tls", func(t *testing.T) {
		fails(t, fmt.Sprintf("provider \"hodei\" {\n  docker {\n    host = %q\n  }\n}\n", host),
			spaced(fmt.Sprintf("the Docker daemon at %s (address from docker.host) speaks TLS, and no TLS material is set: set docker.cert_path", host)))
	})

	t.Run("key_material_not_in_trace_log_plan_or_state", func(t *testing.T) {
		s := keyNeedles(clientPair.key)
		require.NotEmpty(t, s.needles)
		logFile := filepath.Join(t.TempDir(), "acc-trace.log")
		t.Setenv("TF_ACC_LOG_PATH", logFile)
		t.Setenv("TF_ACC_LOG", "TRACE")
		t.Setenv("TF_LOG_PROVIDER", "TRACE")
		for _, name := range sdkLogLevelEnv {
			t.Setenv(name, "TRACE")
		}
		noKey := func(what string, v any) error {
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			for _, n := range s.needles {
				if strings.Contains(string(b), n) {
					return fmt.Errorf("the client key (%.12s…) appears in %s", n, what)
				}
			}
			return nil
		}
		name := randomName("tlskey")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(tlsCli, name) },
			Steps: []resource.TestStep{{
				Config: material(ca.cert, clientPair) + quickWorker(name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{planCheckFunc(
					func(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
						resp.Error = noKey("the plan", req.Plan)
					})}},
				Check: func(state *terraform.State) error { return noKey("the state", state) },
			}},
		})
		data, err := os.ReadFile(logFile)
		require.NoError(t, err)
		log := string(data)
		assert.Contains(t, log, "ConfigureProvider", "the configure call, which carries the key, is logged around")
		s.assertAbsent(t, "the TF_ACC_LOG_PATH log", withoutTestConfigurations(log))
	})
}

// TestAccDockerSettings_invalidAtValidate runs `terraform validate` over
// provider blocks with a wrong docker block each, with no engine anywhere:
// every one is reported, naming its attribute, and values not known yet
// (variables) are no error.
func TestAccDockerSettings_invalidAtValidate(t *testing.T) {
	faultPrereqs(t)
	ca := newTestCA(t, "validate-ca")
	pair, other := ca.issue(t, "client", false), ca.issue(t, "other", false)
	block := func(alias, body string) string {
		// A worker uses each block: Terraform validates the provider
		// blocks that something uses.
		return fmt.Sprintf("provider \"hodei\" {\n  alias = %q\n  docker {\n    %s\n  }\n}\n", alias, body) +
			fmt.Sprintf("resource \"hodei_worker\" %q {\n  provider = hodei.%s\n  name     = \"validate-%s\"\n  image    = %q\n}\n",
				alias, alias, strings.ReplaceAll(alias, "_", "-"), testImage)
	}
	cases := map[string]struct{ body, expect string }{
		"cert_without_key":  {fmt.Sprintf("cert_material = %q", pair.cert), `docker\.key_material[^\n]*\s+must\s+be\s+specified`},
		"key_without_cert":  {fmt.Sprintf("key_material = %q", pair.key), `docker\.cert_material[^\n]*\s+must\s+be\s+specified`},
		"cert_path_and_pem": {fmt.Sprintf("cert_path = \"/etc/docker-certs\"\n    ca_material = %q", ca.cert), `docker\.ca_material[^\n]*\s+cannot\s+be\s+specified\s+when\s+[^\n]*docker\.cert_path`},
		"ca_not_pem":        {`ca_material = "not a certificate"`, `Invalid\s+PEM\s+certificate[\s\S]*docker\.ca_material:\s+no\s+PEM-encoded\s+certificate`},
		"key_in_cert":       {fmt.Sprintf("cert_material = %q\n    key_material = %q", pair.key, pair.key), `docker\.cert_material:\s+PEM\s+block\s+1\s+is\s+a\s+PRIVATE\s+KEY,\s+not\s+a\s+CERTIFICATE`},
		"key_not_pem":       {fmt.Sprintf("cert_material = %q\n    key_material = \"garbage\"", pair.cert), `Invalid\s+PEM\s+private\s+key[\s\S]*docker\.key_material:\s+no\s+PEM-encoded\s+private\s+key`},
		"key_of_other_cert": {fmt.Sprintf("cert_material = %q\n    key_material = %q", pair.cert, other.key), `Client\s+key\s+does\s+not\s+match[\s\S]*docker\.key_material:\s+the\s+private\s+key\s+does\s+not\s+match`},
		"http_host":         {`host = "http://build.example.com:2375"`, `Invalid\s+Docker\s+host\s+address[\s\S]*docker\.host:\s+the\s+address\s+must\s+start\s+with\s+unix://,\s+tcp://\s+or\s+ssh://`},
	}
	var module strings.Builder
	module.WriteString(requiredProvider)
	for alias, c := range cases {
		module.WriteString(block(alias, c.body))
	}
	// Unknown at validate: every setting from a variable.
	module.WriteString("variable \"cert\" { type = string }\nvariable \"key\" {\n  type      = string\n  sensitive = true\n}\nvariable \"host\" { type = string }\n")
	module.WriteString(block("unknown", "host = var.host\n    cert_material = var.cert\n    key_material = var.key\n    ssh_opts = [var.host]"))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module.String()), 0o600))
	out, err := runTerraformCLI(dir, cliEnv(t, "DOCKER_HOST=unix:///nonexistent/docker.sock"), "validate", "-no-color")
	require.Error(t, err, "validate must fail:\n%s", out)

	byAlias := map[string]string{}
	with := regexp.MustCompile(`with provider\["[^"]+"\]\.(\w+)`)
	for _, diag := range strings.Split(out, "Error: ")[1:] {
		if m := with.FindStringSubmatch(diag); m != nil {
			byAlias[m[1]] += diag
		}
	}
	for alias, c := range cases {
		assert.Regexp(t, c.expect, byAlias[alias], "%s: %q", alias, byAlias[alias])
	}
	assert.Empty(t, byAlias["unknown"], "values not known at validate are no error")
	assert.Len(t, byAlias, len(cases), "one diagnostic block per wrong provider block:\n%s", out)
}
