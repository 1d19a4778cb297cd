//go:build tools

// Package tools records the helm CLI as a dependency of this module so that
// `go mod tidy` keeps it and provision.sh can build it by package path.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
