//go:build tools

// Package tools pins kwok and kwokctl, which run the e2e control plane and its simulated nodes.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
