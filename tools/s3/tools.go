//go:build tools

// Package tools pins the S3-compatible object store that provision.sh builds
// (versitygw, Apache-2.0), so that `go mod tidy` keeps its dependencies in go.sum.
package tools

import (
	_ "github.com/versity/versitygw/cmd/versitygw"
)
