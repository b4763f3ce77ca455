package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
)

func TestKubernetesConfigPrecedence(t *testing.T) {
	env := map[string]string{
		EnvKubeConfigPath: "/env/config", EnvKubeConfigPaths: "/env/a:/env/b", EnvKubeContext: "env-ctx",
		EnvKubeHost: "https://env:6443", EnvKubeToken: "env-token", EnvKubeCACert: "env-ca",
		EnvKubeClientCert: "env-cert", EnvKubeClientKey: "env-key", EnvKubeInsecure: "true",
		EnvKubeTLSServerName: "env-name", EnvKubeProxyURL: "http://env-proxy:3128",
	}
	getenv := func(name string) string { return env[name] }
	var diags diag.Diagnostics
	ctx := context.Background()

	// No block: everything from the environment.
	got := kubernetesConfig(ctx, nil, getenv, &diags)
	require.False(t, diags.HasError())
	assert.Equal(t, kubernetes.Config{
		ConfigPaths: []string{"/env/config"}, ConfigContext: "env-ctx", Host: "https://env:6443", Token: "env-token",
		ClusterCACertificate: "env-ca", ClientCertificate: "env-cert", ClientKey: "env-key", Insecure: true,
		TLSServerName: "env-name", ProxyURL: "http://env-proxy:3128",
	}, got)

	// Attributes win, a false one included; KUBE_CONFIG_PATHS after KUBE_CONFIG_PATH.
	k := &kubernetesModel{
		ConfigPaths: types.ListValueMust(types.StringType, []attr.Value{types.StringValue("/attr/a"), types.StringValue("/attr/b")}),
		Host:        types.StringValue("https://attr:6443"), Insecure: types.BoolValue(false), ConfigContext: types.StringValue("attr-ctx"),
	}
	got = kubernetesConfig(ctx, k, getenv, &diags)
	assert.Equal(t, []string{"/attr/a", "/attr/b"}, got.ConfigPaths)
	assert.Equal(t, "https://attr:6443", got.Host)
	assert.Equal(t, "attr-ctx", got.ConfigContext)
	assert.False(t, got.Insecure)
	assert.Equal(t, "env-token", got.Token, "unset attributes still fall back")
	delete(env, EnvKubeConfigPath)
	assert.Equal(t, []string{"/env/a", "/env/b"}, kubernetesConfig(ctx, nil, getenv, &diags).ConfigPaths)

	// in_cluster reads no environment variable.
	got = kubernetesConfig(ctx, &kubernetesModel{InCluster: types.BoolValue(true)}, getenv, &diags)
	assert.Equal(t, kubernetes.Config{InCluster: true}, got)

	env[EnvKubeInsecure] = "maybe"
	kubernetesConfig(ctx, nil, getenv, &diags)
	require.True(t, diags.HasError())
	assert.Contains(t, diags.Errors()[0].Summary(), EnvKubeInsecure)
}
