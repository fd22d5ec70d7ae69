#!/usr/bin/env bash
# Verifier reaction benchmark: how long after a routing event (a gobgpd node
# withdraws or announces a LoadBalancer IP) and after an inventory event (a
# manifest changes, then SIGHUP) bgpd's GET /api/v1/report shows it, over
# REPEAT rounds in the netns lab (FRR as the router, three gobgpd nodes
# configured as Cilium's agents, bgpd reading manifests). Prints one markdown
# table (min / median / p95 / max in ms). See benches/reaction/README.md.
#
#   sudo benches/reaction/run.sh
#
# Environment: REPEAT (20), POLL_MS (pause between two polls of the report,
# 1), BUILD (1: cargo build --release first), BGPD (the binary; default
# target/release/bgpd), REACTION (the measuring program; default
# target/release/examples/reaction).
#
# Network hygiene: everything runs in network namespaces the program creates
# (172.29.51.0/24 on a bridge of their own, no link to the host, no default
# route), deleted when it exits; the API is polled on the verifier
# namespace's loopback.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPEAT=${REPEAT:-20}
POLL_MS=${POLL_MS:-1}
BUILD=${BUILD:-1}
BGPD=${BGPD:-$ROOT/target/release/bgpd}
REACTION=${REACTION:-$ROOT/target/release/examples/reaction}

die() {
	echo "reaction: error: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (network namespaces): sudo $0"
for p in ip gobgpd gobgp vtysh; do
	command -v "$p" >/dev/null 2>&1 || die "$p not found: apt-get install -y iproute2 gobgpd frr"
done
[ -x /usr/lib/frr/bgpd ] || die "/usr/lib/frr/bgpd not found: apt-get install -y frr"

if [ "$BUILD" = 1 ]; then
	echo "reaction: building release binaries (bgpd, examples/reaction)" >&2
	(cd "$ROOT" && cargo build --release -p bgpd -p bgp-tests --example reaction >&2)
fi
[ -x "$BGPD" ] || die "$BGPD missing: build it or set BGPD"
[ -x "$REACTION" ] || die "$REACTION missing: build it or set REACTION"

exec "$REACTION" --bgpd "$BGPD" --repeat "$REPEAT" --poll-ms "$POLL_MS"
