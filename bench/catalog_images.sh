#!/usr/bin/env bash
# Measures the shipped catalog images: each layer's and image's cold build time (docker build
# --no-cache), warm build time (the same build again, every step cached), image size, and the
# total size of a registry holding all of them (du of its storage, as deploy/registry.sh keeps
# it). The images go to a private registry of this script's own on a free loopback port, never
# to the platform's; everything it tags or starts is removed at the end.
#
#   bench/catalog_images.sh [CATALOG_DIR]   (default: this checkout's catalog/)
#   ONLY="slug ..." bench/catalog_images.sh  measures only those images (and the layers)
#
# CATALOG_DIR holds images/<slug>/ and, when the images use them, layers/<name>/ (built first,
# runtime before python-ml). Prints one tab-separated line per layer or image:
#   kind  name  cold_s  warm_s  size_mb
# then `registry_total <du -sh>` and `cold_total_s <sum of the cold times>`.
set -euo pipefail
# The classic builder, as the portal's ImageBuilder (Docker SDK) uses.
export DOCKER_BUILDKIT=0

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CATALOG=$(cd "${1:-$ROOT/catalog}" && pwd)
BASE_IMAGE=${PORTAL_BASE_IMAGE:-portal/base:bookworm}
WHEELS=${PIP_FIND_LINKS:-/opt/wheels}
TAG=measure-$$
WORK=$(mktemp -d /tmp/catalog-images-XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REGISTRY=127.0.0.1:$PORT
registry_pid=
tags=()

cleanup() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
    [ ${#tags[@]} -gt 0 ] && docker rmi "${tags[@]}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/registry"
cat > "$WORK/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: $REGISTRY}
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

buildargs=(--build-arg "BASE_IMAGE=$BASE_IMAGE")

# build KIND NAME FOLDER: cold, then warm; the layer's tag becomes the next builds' argument.
build() {
    local kind=$1 name=$2 folder=$3 context=$WORK/context-$2 ref cold warm size started
    rm -rf "$context" && cp -r "$folder" "$context"
    cp /etc/ssl/certs/ca-certificates.crt "$context/"
    if grep -qiE '^\s*COPY\s.*\btorch-' "$folder/Dockerfile"; then
        ln "$WHEELS"/torch-*.whl "$context/" 2>/dev/null || cp "$WHEELS"/torch-*.whl "$context/"
    fi
    ref=$REGISTRY/$kind-$name:$TAG
    tags+=("$ref")
    started=$(date +%s.%N)
    docker build -q --no-cache "${buildargs[@]}" -t "$ref" "$context" >"$WORK/$name.log" 2>&1 \
        || { cat "$WORK/$name.log" >&2; exit 1; }
    cold=$(echo "$(date +%s.%N) - $started" | bc)
    started=$(date +%s.%N)
    docker build -q "${buildargs[@]}" -t "$ref" "$context" >/dev/null
    warm=$(echo "$(date +%s.%N) - $started" | bc)
    size=$(docker image inspect --format '{{.Size}}' "$ref")
    printf '%s\t%s\t%.0f\t%.1f\t%d\n' "$kind" "$name" "$cold" "$warm" $((size / 1000000))
    echo "$cold" >>"$WORK/cold"
    if [ "$kind" = layer ]; then
        buildargs+=(--build-arg "$(echo "$name" | tr 'a-z-' 'A-Z_')_IMAGE=$ref")
    else
        docker push -q "$ref" >/dev/null
    fi
}

for layer in runtime python-ml; do
    [ -f "$CATALOG/layers/$layer/Dockerfile" ] && build layer "$layer" "$CATALOG/layers/$layer"
done
for folder in "$CATALOG"/images/*/; do
    slug=$(basename "$folder")
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $slug "* ]]; then continue; fi
    [ -f "$folder/manifest.yaml" ] && build image "$slug" "$folder"
done
echo "registry_total $(du -sh "$WORK/registry" | cut -f1)"
echo "cold_total_s $(paste -sd+ "$WORK/cold" | bc | xargs printf '%.0f')"
