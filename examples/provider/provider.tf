terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

# The simplest configuration: nothing. Workers run on the Docker engine that
# DOCKER_HOST names, else that of the Docker context (DOCKER_CONTEXT, or the
# one `docker context use` chose), else the local socket; Kubernetes workers
# use the cluster of KUBECONFIG.
provider "hodei" {}

# A laptop: the local Docker engine is the default backend.
provider "hodei" {
  alias           = "laptop"
  default_backend = "docker"

  docker {
    host = "unix:///var/run/docker.sock"
  }
}

# A remote Docker engine over TLS (ca.pem, cert.pem and key.pem in cert_path).
provider "hodei" {
  alias = "build_host"

  docker {
    host      = "tcp://build-1.example.com:2376"
    cert_path = "~/.docker/build-1"
  }
}

# The same engine with the PEM contents instead of files, for example from a
# secret store; the key is sensitive and stays out of plan output and logs.
variable "docker_tls" {
  type = object({
    ca   = string
    cert = string
    key  = string
  })
  sensitive = true
  default   = { ca = "", cert = "", key = "" }
}

provider "hodei" {
  alias = "build_host_pem"

  docker {
    host          = "tcp://build-1.example.com:2376"
    ca_material   = var.docker_tls.ca
    cert_material = var.docker_tls.cert
    key_material  = var.docker_tls.key
  }
}

# Private registries for Docker workers: a user and password (or token) for
# one registry, and another registry's credentials read from a Docker config
# file through the credential helper it names. Registries without a block get
# the credentials of $DOCKER_CONFIG/config.json, else ~/.docker/config.json,
# as `docker pull` does. (Kubernetes workers use image_pull_secrets instead.)
variable "registry_password" {
  type      = string
  sensitive = true
  default   = ""
}

provider "hodei" {
  alias = "private_registries"

  docker {
    registry_auth {
      address  = "registry.example.com:5000"
      username = "ci-puller"
      password = var.registry_password
    }

    registry_auth {
      address     = "ghcr.io"
      config_file = "~/.docker/ci-config.json"
    }
  }
}

# A remote Docker engine over SSH, as `docker -H ssh://...` reaches it, with
# extra options for the ssh client.
provider "hodei" {
  alias = "build_host_ssh"

  docker {
    host     = "ssh://deploy@build-2.example.com"
    ssh_opts = ["-o", "ServerAliveInterval=30"]
  }
}

# A Kubernetes cluster through a kubeconfig and one of its contexts. Workers
# that set no namespace go to "ml"; GPU workers select nodes by the
# "accelerator" label; host_path volumes must lie under /srv/hodei.
provider "hodei" {
  alias               = "prod"
  default_backend     = "kubernetes"
  gpu_node_label_key  = "accelerator"
  host_path_allowlist = ["/srv/hodei"]

  kubernetes {
    config_path    = "~/.kube/config"
    config_context = "prod"
    namespace      = "ml"
  }
}

# A Kubernetes cluster through explicit credentials: a bearer token (for
# example a service account's) and the API server's CA.
variable "cluster_token" {
  type      = string
  sensitive = true
  default   = ""
}

provider "hodei" {
  alias           = "ci"
  default_backend = "kubernetes"

  kubernetes {
    host                   = "https://10.0.0.1:6443"
    token                  = var.cluster_token
    cluster_ca_certificate = file("${path.module}/ca.pem")
  }
}

# A Kubernetes cluster through a client certificate.
provider "hodei" {
  alias           = "lab"
  default_backend = "kubernetes"

  kubernetes {
    host                   = "https://lab-cluster.example.com:6443"
    client_certificate     = file("~/.hodei/lab/client.pem")
    client_key             = file("~/.hodei/lab/client-key.pem")
    cluster_ca_certificate = file("~/.hodei/lab/ca.pem")
  }
}

# An EKS cluster through its credential plugin: client-go runs
# `aws eks get-token` when a token is needed and again when it expires, so a
# long apply outlives the 15-minute tokens. GKE (gke-gcloud-auth-plugin) and
# AKS (kubelogin) work the same way: see the Kubernetes authentication guide.
provider "hodei" {
  alias           = "eks"
  default_backend = "kubernetes"

  kubernetes {
    host                   = "https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com"
    cluster_ca_certificate = file("${path.module}/ca.pem")

    exec {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", "ml-prod", "--output", "json"]
      env = {
        AWS_PROFILE = "ml-prod"
      }
    }
  }
}

# Inside a pod (a CI runner on the cluster): its own service account, only
# because in_cluster says so.
provider "hodei" {
  alias           = "in_pod"
  default_backend = "kubernetes"

  kubernetes {
    in_cluster = true
    namespace  = "ci"
  }
}

# Both backends at once, and two GPU types added to the built-in catalog:
# a new one (h200) and an override of a built-in one (t4, whose nodes carry
# a different label value on this cluster).
provider "hodei" {
  alias           = "hybrid"
  default_backend = "docker"

  docker {
    host = "unix:///var/run/docker.sock"
  }

  kubernetes {
    config_path = "~/.kube/config"
  }

  gpu_type {
    name       = "h200"
    vendor     = "nvidia"
    node_label = "nvidia-h200"
  }

  gpu_type {
    name       = "t4"
    vendor     = "nvidia"
    node_label = "tesla-t4"
  }
}
