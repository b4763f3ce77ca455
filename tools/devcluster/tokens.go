package main

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// tokenEntry is one line of a --token-file: kube-apiserver's --token-auth-file
// columns (token, user, uid, groups) and an optional expiry.
type tokenEntry struct {
	user    string
	uid     string
	groups  []string
	expires time.Time // zero: never
}

// readTokenFile parses a token file. It is read on every review, so that a
// test may add, rotate and expire tokens while the cluster runs, which
// kube-apiserver's own --token-auth-file (read once at start) cannot do.
func readTokenFile(path string) (map[string]tokenEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.Comment = '#'
	tokens := map[string]tokenEntry{}
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return tokens, nil
		}
		if err != nil {
			return nil, fmt.Errorf("token file %s: %w", path, err)
		}
		if len(record) < 3 || record[0] == "" || record[1] == "" {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("token file %s line %d: want token,user,uid[,groups[,expires]]", path, line)
		}
		entry := tokenEntry{user: record[1], uid: record[2]}
		if len(record) > 3 && record[3] != "" {
			entry.groups = strings.Split(record[3], ",")
		}
		if len(record) > 4 && record[4] != "" {
			if entry.expires, err = time.Parse(time.RFC3339Nano, record[4]); err != nil {
				line, _ := r.FieldPos(4)
				return nil, fmt.Errorf("token file %s line %d: expiry: %w", path, line, err)
			}
		}
		tokens[record[0]] = entry
	}
}

// review answers one TokenReview from the token file.
func review(tokenFile string, token string, now time.Time) authenticationv1.TokenReviewStatus {
	tokens, err := readTokenFile(tokenFile)
	if err != nil {
		return authenticationv1.TokenReviewStatus{Error: err.Error()}
	}
	entry, ok := tokens[token]
	switch {
	case !ok:
		return authenticationv1.TokenReviewStatus{Error: "unknown token"}
	case !entry.expires.IsZero() && !now.Before(entry.expires):
		return authenticationv1.TokenReviewStatus{Error: "token expired at " + entry.expires.Format(time.RFC3339Nano)}
	}
	return authenticationv1.TokenReviewStatus{
		Authenticated: true,
		User:          authenticationv1.UserInfo{Username: entry.user, UID: entry.uid, Groups: entry.groups},
	}
}

// tokenWebhookHandler is kube-apiserver's authentication webhook (TokenReview v1).
func tokenWebhookHandler(tokenFile string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var request authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&request); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		response := authenticationv1.TokenReview{
			TypeMeta: request.TypeMeta,
			Status:   review(tokenFile, request.Spec.Token, time.Now()),
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response)
	})
}

// ServeTokenWebhook serves the token webhook on a free 127.0.0.1 port, with
// the cluster's serving certificate, until ctx ends, and writes the
// kubeconfig that points kube-apiserver at it. It returns that file's path.
func ServeTokenWebhook(ctx context.Context, pki *PKI, tokenFile, dataDir string) (string, error) {
	if _, err := readTokenFile(tokenFile); err != nil {
		return "", err
	}
	cert, err := tls.LoadX509KeyPair(pki.ServingCert, pki.ServingKey)
	if err != nil {
		return "", err
	}
	caPEM, err := pki.CACertPEM()
	if err != nil {
		return "", err
	}
	listener, _, err := loopbackListener()
	if err != nil {
		return "", err
	}
	server := &http.Server{
		Handler:           tokenWebhookHandler(tokenFile),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = server.ServeTLS(listener, "", "") }()
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	config := filepath.Join(dataDir, "token-webhook.kubeconfig")
	url := "https://" + listener.Addr().String() + "/authenticate"
	return config, WriteKubeconfig(config, url, caPEM, Credentials{}, "")
}
