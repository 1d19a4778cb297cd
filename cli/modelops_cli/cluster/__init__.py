"""A local Kubernetes cluster with a real node (kubelet, containerd, kube-proxy, CoreDNS)."""
