//go:build tools

// Package tools pins the Pulumi CLI that `make tools` builds for `make e2e`.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
