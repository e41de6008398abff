#!/usr/bin/env bash
# Blue-green deployment of erphub: two Deployments, erphub-blue and erphub-green, behind the Service erphub, whose
# selector names the live colour. A release goes to the idle colour; once all its pods are ready the Service is
# switched to it and the old colour is scaled to zero (kept, so going back is one more run). Needs only kubectl.
#
#   kubernetes/blue-green/deploy.sh OVERLAY IMAGE          deploy IMAGE to the idle colour, then switch
#   kubernetes/blue-green/deploy.sh OVERLAY --previous     bring back the idle colour's own image, then switch
#   kubernetes/blue-green/deploy.sh --render OVERLAY IMAGE COLOUR [LIVE]   print the manifests, change nothing
#
# OVERLAY is kubernetes/overlays/dev or kubernetes/overlays/prod. Both colours poll and deliver while they overlap;
# the ledger's claims keep that safe, and a stopping pod hands its claims back. Database migrations must therefore
# work for the old release too (add first, remove a release later).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
timeout="${ERPHUB_ROLLOUT_TIMEOUT:-600s}"

die() {
    echo "deploy.sh: $*" >&2
    exit 1
}

check_image() {
    # It becomes a YAML string in a patch: nothing that could end the string or start another line.
    case "$1" in *[[:space:]\"\\]* | "") die "not an image reference: '$1'" ;; esac
}

# The overlay with the workload of COLOUR running IMAGE, the Service on LIVE (empty: the overlay's own selector).
render() {
    local overlay="$1" image="$2" colour="$3" live="${4:-}"
    [ -f "$overlay/kustomization.yaml" ] || die "$overlay is not a kustomize overlay"
    case "$colour" in blue | green) ;; *) die "colour must be blue or green, not '$colour'" ;; esac
    case "$live" in "" | blue | green) ;; *) die "live colour must be blue or green, not '$live'" ;; esac
    check_image "$image"
    (
        # kustomize accepts only relative paths: render from a folder beside the colour components.
        work="$(mktemp -d "$here/.render.XXXXXX")"
        trap 'rm -rf "$work"' EXIT
        {
            echo "apiVersion: kustomize.config.k8s.io/v1beta1"
            echo "kind: Kustomization"
            echo "resources: [\"$(realpath --relative-to="$work" "$overlay")\"]"
            echo "components: [\"../$colour\"${live:+, \"../live-$live\"}]"
            echo "patches:"
            echo "  - target: {kind: Deployment}"
            echo "    patch: |-"
            echo "      - {op: replace, path: /spec/template/spec/containers/0/image, value: \"$image\"}"
        } >"$work/kustomization.yaml"
        kubectl kustomize "$work"
    )
}

if [ "${1:-}" = "--render" ]; then
    [ $# -ge 4 ] || die "usage: deploy.sh --render OVERLAY IMAGE COLOUR [LIVE]"
    render "$(cd "$2" && pwd)" "$3" "$4" "${5:-}"
    exit 0
fi

[ $# -eq 2 ] || die "usage: deploy.sh OVERLAY IMAGE | deploy.sh OVERLAY --previous | deploy.sh --render OVERLAY IMAGE COLOUR [LIVE]"
overlay="$(cd "$1" && pwd)"
image="$2"
[ "$image" = "--previous" ] || check_image "$image"

namespace="$(kubectl kustomize "$overlay" | sed -n 's/^  namespace: //p' | sort -u)"
[ -n "$namespace" ] && [ "$(printf '%s\n' "$namespace" | wc -l)" -eq 1 ] || die "$overlay must set one namespace"
k() { kubectl --namespace "$namespace" "$@"; }

# No Service yet is a first release; any other failure to read it stops here.
live="$(k get service erphub --ignore-not-found -o jsonpath='{.spec.selector.erphub\.io/colour}')"
case "$live" in
    blue) next=green ;;
    green | "") next=blue ;;
    *) die "the Service erphub selects colour '$live'" ;;
esac
if [ "$image" = "--previous" ]; then
    image="$(k get deployment "erphub-$next" -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true)"
    [ -n "$image" ] || die "no previous release: erphub-$next does not exist in $namespace"
fi

echo "deploy.sh: $namespace: live colour '${live:-none}', deploying $image as $next"
# 1. The new colour next to the live one; the Service keeps its selector.
render "$overlay" "$image" "$next" "$live" | kubectl apply -f -
if ! k rollout status "deployment/erphub-$next" --timeout="$timeout"; then
    # Not ready: it takes no traffic, and it must not keep polling either. The live colour serves on.
    k delete horizontalpodautoscaler "erphub-$next" --ignore-not-found
    k scale deployment "erphub-$next" --replicas=0
    die "erphub-$next did not become ready within $timeout; scaled to zero, $namespace stays on '${live:-the old Deployment}'"
fi
# 2. The switch: the Service selects the new colour only.
render "$overlay" "$image" "$next" "$next" | kubectl apply -f -
# 3. The old colour stops (its claims are handed back on SIGTERM) and stays, at zero, for going back.
if [ -n "$live" ]; then
    k delete horizontalpodautoscaler "erphub-$live" --ignore-not-found
    k scale deployment "erphub-$live" --replicas=0
else
    # First blue-green release over a plain `kubectl apply -k`: the colourless workload goes.
    k delete deployment,horizontalpodautoscaler,poddisruptionbudget erphub --ignore-not-found
fi
echo "deploy.sh: $namespace now serves erphub-$next ($image)"
