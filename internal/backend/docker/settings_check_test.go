package docker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A key that does not parse is reported without any of its bytes.
func TestCheckPrivateKeyNeverQuotesTheKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	good := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	require.NoError(t, CheckPrivateKey(good))

	damaged := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:len(der)-7]}))
	wrongType := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	for _, bad := range []string{damaged, wrongType, "garbage"} {
		err := CheckPrivateKey(bad)
		require.Error(t, err)
		for _, line := range strings.Split(bad, "\n") {
			if len(line) > 16 && !strings.HasPrefix(line, "-----") {
				assert.NotContains(t, err.Error(), line[:16])
			}
		}
	}
	assert.ErrorContains(t, CheckCertificates(good), "is a PRIVATE KEY, not a CERTIFICATE")
}
