#!/usr/bin/env bash
# make tools: builds the real engine `make e2e` runs, from Go modules only, into .cache/engine/bin.
#
# Each tool is one small wrapper module beside this script (go.mod/go.sum, no upstream source);
# `go build` fetches the pinned upstream modules from the Go module proxy. A tool is skipped when
# .cache/engine/bin/<tool>.version already names its pin, so a warm `make tools` takes seconds.
# The Go build cache (~/.cache/go-build) is what makes a rebuild after a pin change take minutes
# rather than the tens of minutes of a cold build.
#
#   bash tools/engine/build.sh            build whatever is missing or stale
#   bash tools/engine/build.sh --list     print each tool and its pin
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${ENGINE_BIN:-$ROOT/.cache/engine/bin}"
WORK="$ROOT/.cache/engine/work"
mkdir -p "$BIN" "$WORK"
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0

# The pins. Each is the newest the module proxy serves at the version our SDKs need; the README's
# "The real engine" section says why each differs from uv.lock where it does.
PULUMI_VERSION=v3.274.0              # pkg/v3 + sdk/v3 (3.272.0, uv.lock's SDK, is not served)
PYTHON_SDK=v3.272.0                  # uv.lock's Python SDK: the exec script the host runs comes from it
K8S_PROVIDER_VERSION=v4.25.0         # provider/v4 at the v4.25.0 tag's commit (f47bc2d6f199)
K8S_VERSION=v1.34.4                  # control plane: the default kubernetesVersion (1.34)
ETCD_VERSION=v3.6.17
KWOK_VERSION=v0.8.0

if [[ "${1:-}" == "--list" ]]; then
  printf '%s\n' "pulumi $PULUMI_VERSION" "pulumi-language-python (ours) exec script of sdk $PYTHON_SDK" \
    "pulumi-resource-kubernetes $K8S_PROVIDER_VERSION" "kubernetes $K8S_VERSION" \
    "etcd $ETCD_VERSION" "kwok $KWOK_VERSION"
  exit 0
fi

# fresh NAME PIN: true when BIN/NAME was built at PIN (and the wrapper module did not change).
fresh() {
  local stamp="$BIN/$1.version" want
  want="$2 $(cat "$HERE/$3/go.mod" "$HERE/$3"/*.go 2>/dev/null | sha256sum | cut -c1-16)"
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
  echo "$want" > "$stamp.want"
  return 1
}
stamp() { mv "$BIN/$1.version.want" "$BIN/$1.version"; }
timed() { local t0=$SECONDS; "$@"; echo "   ($((SECONDS - t0)) s)"; }

# 1. Pulumi CLI. pkg/go.mod has replace directives, so `go install pkg/...@v` is refused: the
# wrapper requires pkg/v3 and sdk/v3 at one version. The version ldflag feeds the CLI's
# requiredPulumiVersion check (an empty version silently skips it).
if ! fresh pulumi "$PULUMI_VERSION" pulumi; then
  echo "== pulumi $PULUMI_VERSION"
  (cd "$HERE/pulumi" && timed go build -o "$BIN/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  stamp pulumi
fi

# 2. The Python language host: ours (tools/engine/langhost/main.go), because the module proxy
# serves no version of upstream's sdk/python/cmd/pulumi-language-python module. It links sdk/v3 at
# the CLI's version (sdk/v3 3.272.0 needs a pulumi-cloud-sdk the proxy does not serve) and runs
# programs with the exec script of the sdk/v3 module at uv.lock's Python SDK version.
if ! fresh pulumi-language-python "$PULUMI_VERSION $PYTHON_SDK" langhost; then
  echo "== pulumi-language-python (ours; exec script of sdk $PYTHON_SDK)"
  (cd "$HERE/langhost" && timed go build -o "$BIN/pulumi-language-python" \
    -ldflags "-s -w -X main.version=${PYTHON_SDK#v}" .)
  sdk_dir="$(cd "$HERE/langhost" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PYTHON_SDK" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
  install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
  stamp pulumi-language-python
fi

# 3. The Kubernetes provider. Upstream's main package embeds schema-embed.json and
# terraform-mapping-embed.json, which its release generates (from the committed schema.json with
# the version set) and which the module zip lacks. Our main.go (provider/) serves the same
# provider package; it is built in a scratch folder under .cache where those two files are
# written from the pinned module's own schema.json and terraform-mapping.json.
if ! fresh pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION" provider; then
  echo "== pulumi-resource-kubernetes $K8S_PROVIDER_VERSION"
  rm -rf "$WORK/provider" && mkdir -p "$WORK/provider"
  cp "$HERE/provider/go.mod" "$HERE/provider/go.sum" "$HERE/provider/main.go" "$WORK/provider/"
  src="$(cd "$WORK/provider" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
  python3 - "$src/cmd/pulumi-resource-kubernetes" "$WORK/provider" "${K8S_PROVIDER_VERSION#v}" <<'PY2'
import json, pathlib, sys
src, out, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
schema = json.loads((src / "schema.json").read_text())
schema["version"] = version
(out / "schema-embed.json").write_text(json.dumps(schema))
mapping = json.loads((src / "terraform-mapping.json").read_text())
(out / "terraform-mapping-embed.json").write_text(json.dumps(mapping))
PY2
  (cd "$WORK/provider" && timed go build -o "$BIN/pulumi-resource-kubernetes" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_PROVIDER_VERSION#v}" .)
  stamp pulumi-resource-kubernetes
fi

# 4. The control plane. k8s.io/kubernetes as a dependency needs every staging module replaced by
# its published v0.<minor>.<patch> (the wrapper's go.mod) and the version ldflags, or kwokctl and
# the provider read the version as v0.0.0.
if ! fresh kube-apiserver "$K8S_VERSION" kubernetes; then
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  vpkg=k8s.io/component-base/version
  cpkg=k8s.io/client-go/pkg/version
  ld="-s -w"
  for p in $vpkg $cpkg; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    echo "== $c $K8S_VERSION"
    (cd "$HERE/kubernetes" && timed go build -o "$BIN/$c" -ldflags "$ld" "k8s.io/kubernetes/cmd/$c")
  done
  stamp kube-apiserver
fi

# 5. etcd: the server module's main package calls etcdmain.Main.
if ! fresh etcd "$ETCD_VERSION" etcd; then
  echo "== etcd $ETCD_VERSION"
  (cd "$HERE/etcd" && timed go build -o "$BIN/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3)
  stamp etcd
fi

# 6. kwok and kwokctl.
if ! fresh kwok "$KWOK_VERSION" kwok; then
  for c in kwok kwokctl; do
    echo "== $c $KWOK_VERSION"
    (cd "$HERE/kwok" && timed go build -o "$BIN/$c" -ldflags "-s -w \
      -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION \
      -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION" "sigs.k8s.io/kwok/cmd/$c")
  done
  stamp kwok
fi
echo "engine tools in $BIN"
