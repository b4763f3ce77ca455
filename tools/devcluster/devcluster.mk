# devcluster: a real Kubernetes control plane with simulated GPU nodes.
# Included from the top-level GNUmakefile; paths are relative to the repo root.
# Override any variable below before the include or on the command line.

DEVCLUSTER_BIN                   ?= bin/devcluster
DEVCLUSTER_DIR                   ?= .devcluster
DEVCLUSTER_NODES                 ?= tools/devcluster/nodes.yaml
DEVCLUSTER_KUBECONFIG            ?= $(DEVCLUSTER_DIR)/kubeconfig
DEVCLUSTER_RESTRICTED_KUBECONFIG ?= $(DEVCLUSTER_DIR)/restricted.kubeconfig
DEVCLUSTER_RESTRICTED_NAMESPACE  ?= hodei-limited
# With real nodes: the private image registry's address and credentials.
DEVCLUSTER_REGISTRY_FILE         ?= $(DEVCLUSTER_DIR)/registry.json
DEVCLUSTER_LOG                   ?= $(DEVCLUSTER_DIR)/devcluster.log
DEVCLUSTER_PIDFILE               ?= $(DEVCLUSTER_DIR)/pid
# Seconds devcluster-up waits for "ready", and devcluster-down for the exit.
DEVCLUSTER_READY_TIMEOUT         ?= 120
DEVCLUSTER_STOP_TIMEOUT          ?= 30
DEVCLUSTER_TEST_FLAGS            ?=

.PHONY: devcluster-build devcluster-up devcluster-down devcluster-test

# The binary reports the Kubernetes version it is built from (kube-apiserver's
# /version, the real nodes' kubelets), which Go alone would leave at
# v0.0.0-master.
DEVCLUSTER_K8S_VERSION = $(shell cd tools/devcluster && go list -m -f '{{.Version}}' k8s.io/kubernetes)
DEVCLUSTER_K8S_MAJOR_MINOR = $(subst ., ,$(patsubst v%,%,$(DEVCLUSTER_K8S_VERSION)))
DEVCLUSTER_LDFLAGS = -X k8s.io/component-base/version.gitVersion=$(DEVCLUSTER_K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(DEVCLUSTER_K8S_MAJOR_MINOR)) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(DEVCLUSTER_K8S_MAJOR_MINOR))

devcluster-build:
	cd tools/devcluster && go build -ldflags '$(DEVCLUSTER_LDFLAGS)' -o $(abspath $(DEVCLUSTER_BIN)) .

# Starts devcluster in the background unless the pid file names a live
# process, and waits until it prints "ready". The subshell makes init its
# parent, so that an early exit is seen instead of lingering as a zombie.
devcluster-up: devcluster-build
	@mkdir -p $(DEVCLUSTER_DIR)
	@if [ -f $(DEVCLUSTER_PIDFILE) ] && kill -0 "$$(cat $(DEVCLUSTER_PIDFILE))" 2>/dev/null; then \
		echo "devcluster: already running (pid $$(cat $(DEVCLUSTER_PIDFILE))), KUBECONFIG=$(DEVCLUSTER_KUBECONFIG)"; \
		exit 0; \
	fi; \
	tools/devcluster/prerequisites.sh || exit 1; \
	rm -f $(DEVCLUSTER_LOG); \
	( nohup $(DEVCLUSTER_BIN) up --nodes $(DEVCLUSTER_NODES) --kubeconfig $(DEVCLUSTER_KUBECONFIG) \
		--restricted-kubeconfig $(DEVCLUSTER_RESTRICTED_KUBECONFIG) \
		--restricted-namespace $(DEVCLUSTER_RESTRICTED_NAMESPACE) \
		--registry-file $(DEVCLUSTER_REGISTRY_FILE) \
		> $(DEVCLUSTER_LOG) 2>&1 < /dev/null & echo $$! > $(DEVCLUSTER_PIDFILE) ); \
	pid=$$(cat $(DEVCLUSTER_PIDFILE)); \
	ticks=0; \
	while ! grep -qx ready $(DEVCLUSTER_LOG); do \
		if ! kill -0 $$pid 2>/dev/null; then \
			echo "devcluster: exited before ready; last log lines:"; tail -n 30 $(DEVCLUSTER_LOG); \
			rm -f $(DEVCLUSTER_PIDFILE); exit 1; \
		fi; \
		if [ $$ticks -ge $$(( $(DEVCLUSTER_READY_TIMEOUT) * 5 )) ]; then \
			echo "devcluster: not ready after $(DEVCLUSTER_READY_TIMEOUT)s; last log lines:"; tail -n 30 $(DEVCLUSTER_LOG); \
			kill $$pid; rm -f $(DEVCLUSTER_PIDFILE); exit 1; \
		fi; \
		sleep 0.2; ticks=$$((ticks + 1)); \
	done; \
	echo "devcluster: ready (pid $$pid), KUBECONFIG=$(DEVCLUSTER_KUBECONFIG)"

# Stops the devcluster named by the pid file with SIGTERM and waits for it.
devcluster-down:
	@if [ -f $(DEVCLUSTER_PIDFILE) ]; then \
		pid=$$(cat $(DEVCLUSTER_PIDFILE)); \
		if kill -0 $$pid 2>/dev/null; then \
			kill -TERM $$pid; ticks=0; \
			while kill -0 $$pid 2>/dev/null; do \
				if [ $$ticks -ge $$(( $(DEVCLUSTER_STOP_TIMEOUT) * 5 )) ]; then \
					echo "devcluster: pid $$pid still running after $(DEVCLUSTER_STOP_TIMEOUT)s; sending SIGKILL"; \
					kill -KILL $$pid; break; \
				fi; \
				sleep 0.2; ticks=$$((ticks + 1)); \
			done; \
			echo "devcluster: stopped (pid $$pid)"; \
		fi; \
		rm -f $(DEVCLUSTER_PIDFILE); \
	fi

# The tests run the binary just built instead of linking their own.
devcluster-test: devcluster-build
	cd tools/devcluster && DEVCLUSTER_BIN=$(abspath $(DEVCLUSTER_BIN)) go test $(DEVCLUSTER_TEST_FLAGS) ./...
