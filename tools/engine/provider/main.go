// Command pulumi-resource-kubernetes serves the Kubernetes provider of the pinned provider/v4
// module for `make e2e`. Upstream's own main package embeds two JSON files that its release
// generates and its module zip lacks, so tools/engine/build.sh builds this one instead, in a
// scratch folder where it writes those files from the module's committed schema.json (with the
// version set) and terraform-mapping.json.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
