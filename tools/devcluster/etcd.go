package main

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// etcdStartTimeout bounds how long a single-member etcd may take to elect itself.
const etcdStartTimeout = 30 * time.Second

// StartEtcd runs a single-member etcd storing its data in dir and returns it
// with its client URL. logOutput is a file path, or "stderr".
func StartEtcd(dir, logOutput string) (*embed.Etcd, string, error) {
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, "", err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, "", err
	}
	cfg := embed.NewConfig()
	cfg.Name = "devcluster"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{logOutput}
	// A throw-away development cluster does not need durable writes; skipping
	// fsync makes start-up and every write much faster on slow disks.
	cfg.UnsafeNoFsync = true

	etcd, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-etcd.Server.ReadyNotify():
		return etcd, clientURL.String(), nil
	case err := <-etcd.Err():
		etcd.Close()
		return nil, "", fmt.Errorf("etcd: %w", err)
	case <-time.After(etcdStartTimeout):
		etcd.Close()
		return nil, "", fmt.Errorf("etcd: not ready after %s", etcdStartTimeout)
	}
}

// freeLoopbackURL returns an http URL on a 127.0.0.1 port that was free a moment ago.
func freeLoopbackURL() (*url.URL, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := listener.Addr().String()
	if err := listener.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}
