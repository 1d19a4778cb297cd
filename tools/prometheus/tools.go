//go:build tools

// Package tools pins the Prometheus commands that provision.sh builds, so
// that `go mod tidy` keeps their dependencies in go.sum.
//
// Debian's prometheus package is built without Kubernetes service discovery
// (its client libraries are not packaged in Debian), so the local cluster's
// Prometheus is built from the upstream module instead, with only the
// kubernetes, file and http discovery mechanisms compiled in.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
