//go:build tools

// Package tools pins the etcd server that `make tools` builds for the e2e control plane.
package tools

import _ "go.etcd.io/etcd/server/v3"
