#!/usr/bin/env bash
# Full-table ingest benchmark: `bgp-probe replay` sends collector data to one
# receiver at a time -- the project's bgpd, BIRD 2, FRR bgpd, gobgpd -- each
# alone in a network namespace joined to the sender's by a veth pair, and
# configured as a plain receiver (import everything, export nothing, no
# kernel FIB). Per input and receiver it measures the seconds from session
# Established (as the sender reports it) until the receiver holds every
# prefix, and the receiver's peak RSS (VmHWM), REPEAT times, and prints one
# markdown table of the medians with ratios against BIRD.
#
#   sudo benches/ingest/run.sh            # see benches/ingest/README.md
#
# Environment: REPEAT (3), INPUTS ("rib4 rib6 pch"), RECEIVERS ("bgpd bird
# frr gobgp"), BUILD (1: cargo build --release first), BGP_PROBE and BGPD
# (binaries; default target/release), BGP_DATA_DIR, POLL (seconds between
# count queries, 0.01), TIMEOUT (seconds per run, 900), KEEP (1: keep the work
# directory with configs and logs).
#
# Network hygiene: everything happens inside two namespaces created here
# (10.99.0.0/30 and fd99::/64 on their veth only); they have no link to the
# host and are deleted on exit.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${BGP_DATA_DIR:-$ROOT/../shared/data/bgp}
REPEAT=${REPEAT:-3}
INPUTS=${INPUTS:-"rib4 rib6 pch"}
RECEIVERS=${RECEIVERS:-"bgpd bird frr gobgp"}
BUILD=${BUILD:-1}
PROBE=${BGP_PROBE:-$ROOT/target/release/bgp-probe}
BGPD=${BGPD:-$ROOT/target/release/bgpd}
POLL=${POLL:-0.01}
TIMEOUT=${TIMEOUT:-900}
KEEP=${KEEP:-0}

SND=bgpbench-snd-$$
RCV=bgpbench-rcv-$$
WORK=$(mktemp -d /tmp/bgpbench.XXXXXX)
chmod 755 "$WORK"
SND_IP=10.99.0.1
RCV_IP=10.99.0.2
SND_IP6=fd99::1
RCV_IP6=fd99::2
# 4-octet private AS numbers that no path in the data contains: a receiver
# drops routes whose path holds its own AS (loop detection), and paths with
# 65001 and 65002 do occur.
SND_AS=4200099001
RCV_AS=4200099002

log() { echo "ingest: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# --- prerequisites ----------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (network namespaces): sudo $0"
need() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || die "$1 not found: apt-get install -y $2"; }
need ip iproute2
need ss iproute2
need curl curl
need jq jq
need bird bird2
need birdc bird2
need /usr/lib/frr/zebra frr
need /usr/lib/frr/bgpd frr
need vtysh frr
need gobgpd gobgpd
need gobgp gobgpd

if [ "$BUILD" = 1 ]; then
	log "building release binaries (bgp-probe, bgpd)"
	(cd "$ROOT" && cargo build --release -p probe -p bgpd >&2)
fi
[ -x "$PROBE" ] || die "$PROBE missing: build it or set BGP_PROBE"
[ -x "$BGPD" ] || die "$BGPD missing: build it or set BGPD"
"$PROBE" replay --help >/dev/null 2>&1 || die "$PROBE has no replay subcommand"

input_file() {
	case $1 in
	rib4) echo "$DATA/derived/rib.20140523.0600_firstMB.whole-records.mrt.gz" ;;
	rib6) echo "$DATA/derived/rib6.20151101.0600_firstMB.whole-records.mrt.gz" ;;
	pch) echo "$DATA/updates.et-header.2015.gz" ;;
	*) die "unknown input $1 (rib4, rib6, pch)" ;;
	esac
}
input_label() {
	case $1 in
	rib4) echo "RouteViews RIB 2014, one peer's view (IPv4)" ;;
	rib6) echo "RouteViews RIB 2015, one peer's view (IPv6)" ;;
	pch) echo "PCH full table 2015 (IPv4, iBGP stream sent as eBGP)" ;;
	esac
}
for i in $INPUTS; do [ -f "$(input_file "$i")" ] || die "$(input_file "$i") missing (BGP_DATA_DIR)"; done

# --- namespaces ---------------------------------------------------------------

cleanup() {
	local rc=$?
	for ns in "$SND" "$RCV"; do
		if ip netns list | grep -qw "$ns"; then
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	if [ "$KEEP" = 1 ] || [ $rc != 0 ]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in "$SND" "$RCV"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
done
ip -n "$SND" link add veth0 type veth peer name veth1 netns "$RCV"
ip -n "$SND" addr add "$SND_IP/30" dev veth0
ip -n "$SND" -6 addr add "$SND_IP6/64" dev veth0 nodad
ip -n "$RCV" addr add "$RCV_IP/30" dev veth1
ip -n "$RCV" -6 addr add "$RCV_IP6/64" dev veth1 nodad
ip -n "$SND" link set veth0 up
ip -n "$RCV" link set veth1 up

# --- receivers ----------------------------------------------------------------
# start_X DIR starts the receiver in $RCV and sets PIDS ("name:pid ..."; the
# first is the one whose RSS is reported); count_X DIR prints the prefixes it
# holds from the sender (0 when it cannot tell yet).

start_bgpd() {
	cat >"$1/bgpd.toml" <<EOF
asn = $RCV_AS
router_id = "$RCV_IP"
listen = ["$RCV_IP:179"]
[http]
listen = "127.0.0.1:9179"
[[peer]]
name = "replay"
address = "$SND_IP"
remote_asn = $SND_AS
role = "router"
EOF
	ip netns exec "$RCV" "$BGPD" --config "$1/bgpd.toml" --log warn >"$1/bgpd.log" 2>&1 &
	PIDS="bgpd:$!"
}
count_bgpd() {
	{ ip netns exec "$RCV" curl -sf --max-time 5 http://127.0.0.1:9179/api/v1/peers || true; } |
		jq '[.[] | select(.address == "'"$SND_IP"'") | .prefixes[]] | add // 0' 2>/dev/null || true
}

start_bird() {
	cat >"$1/bird.conf" <<EOF
log stderr { error, fatal };
router id $RCV_IP;
protocol device { }
protocol bgp replay {
  local $RCV_IP as $RCV_AS;
  neighbor $SND_IP as $SND_AS;
  passive on;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
EOF
	ip netns exec "$RCV" bird -f -c "$1/bird.conf" -s "$1/bird.ctl" -P "$1/bird.pid" >"$1/bird.log" 2>&1 &
	PIDS="bird:$!"
}
count_bird() {
	{ birdc -s "$1/bird.ctl" show protocols all replay 2>/dev/null || true; } |
		awk '/Routes:/ { n += $2 } END { print n + 0 }'
}

start_frr() {
	cat >"$1/zebra.conf" <<EOF
hostname receiver
EOF
	cat >"$1/bgpd.conf" <<EOF
hostname receiver
router bgp $RCV_AS
 bgp router-id $RCV_IP
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor $SND_IP remote-as $SND_AS
 neighbor $SND_IP passive
 address-family ipv4 unicast
  neighbor $SND_IP activate
 exit-address-family
 address-family ipv6 unicast
  neighbor $SND_IP activate
 exit-address-family
exit
EOF
	chown -R frr:frr "$1"
	local common=(-z "$1/zserv.api" --vty_socket "$1" -P 0 --log stdout)
	ip netns exec "$RCV" /usr/lib/frr/zebra -f "$1/zebra.conf" -i "$1/zebra.pid" "${common[@]}" \
		>"$1/zebra.log" 2>&1 &
	local zebra=$!
	for _ in $(seq 100); do [ -S "$1/zserv.api" ] && break; sleep 0.05; done
	# -n: never install routes in the kernel (zebra still resolves next hops).
	ip netns exec "$RCV" /usr/lib/frr/bgpd -f "$1/bgpd.conf" -i "$1/bgpd.pid" "${common[@]}" -p 179 -n \
		>"$1/frr-bgpd.log" 2>&1 &
	PIDS="bgpd:$! zebra:$zebra"
}
count_frr() {
	{ vtysh --vty_socket "$1" -c "show bgp summary json" 2>/dev/null || true; } |
		jq '[.. | objects | select(has("pfxRcd")) | .pfxRcd] | add // 0' 2>/dev/null || true
}

start_gobgp() {
	cat >"$1/gobgpd.toml" <<EOF
[global.config]
  as = $RCV_AS
  router-id = "$RCV_IP"
  port = 179
  local-address-list = ["$RCV_IP"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$SND_IP"
    peer-as = $SND_AS
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOF
	ip netns exec "$RCV" gobgpd -f "$1/gobgpd.toml" -t toml --api-hosts 127.0.0.1:50051 \
		-l warn --pprof-disable >"$1/gobgpd.log" 2>&1 &
	PIDS="gobgpd:$!"
}
count_gobgp() {
	{ ip netns exec "$RCV" gobgp -u 127.0.0.1 -p 50051 neighbor -j 2>/dev/null || true; } |
		jq '[.[] | .afi_safis[]? | .state.accepted // 0] | add // 0' 2>/dev/null || true
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

stop_pids() {
	local p pid
	for p in "$@"; do
		pid=${p#*:}
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# --- one run ------------------------------------------------------------------
# run INPUT RECEIVER REP: appends "input receiver prefixes seconds rss_kib
# extra_kib query_us" to $WORK/results.tsv (extra: FRR's zebra).

run() {
	local input=$1 rcv=$2 rep=$3
	local dir=$WORK/$input-$rcv-$rep
	mkdir -p "$dir"
	chmod 755 "$dir"
	PIDS=
	"start_$rcv" "$dir"
	local main=${PIDS%% *}
	listening() { [ -n "$(ip netns exec "$RCV" ss -Hltn "sport = :179")" ]; }
	for _ in $(seq 200); do
		listening && break
		sleep 0.05
	done
	listening || die "$rcv not listening; see $dir"

	# Created here, not by the background job's redirection, so that the
	# first poll below never finds it missing.
	: >"$dir/replay.out"
	ip netns exec "$SND" "$PROBE" replay --peer "$RCV_IP" --local-as "$SND_AS" --remote-as "$RCV_AS" \
		--next-hop "$SND_IP" --next-hop6 "$SND_IP6" --no-extended-message --wait \
		"$(input_file "$input")" >"$dir/replay.out" 2>"$dir/replay.err" &
	local replay=$!
	local t0=
	for _ in $(seq 3000); do
		t0=$(awk '$1 == "established" { print $3 }' "$dir/replay.out")
		[ -n "$t0" ] && break
		kill -0 "$replay" 2>/dev/null || die "replay into $rcv failed: $(cat "$dir/replay.err")"
		sleep 0.01
	done
	[ -n "$t0" ] || die "no session with $rcv within 30 s; see $dir"
	local want
	want=$(awk '$1 == "expected" { print $2 + $4 }' "$dir/replay.out")
	# The completion time is taken when the query that first sees every
	# prefix starts: the receiver got there after the previous query and
	# before this one answered.
	local n=0 t1= tq deadline=$((SECONDS + TIMEOUT))
	while :; do
		tq=$(date +%s.%N)
		n=$("count_$rcv" "$dir")
		if [ "${n:-0}" -ge "$want" ]; then
			t1=$tq
			break
		fi
		[ $SECONDS -lt $deadline ] || die "$rcv holds $n of $want prefixes after $TIMEOUT s; see $dir"
		kill -0 "$replay" 2>/dev/null || die "replay into $rcv ended early: $(cat "$dir/replay.err")"
		sleep "$POLL"
	done
	local rss extra=0 p
	rss=$(hwm_kib "${main#*:}")
	for p in ${PIDS#"$main"}; do extra=$(hwm_kib "${p#*:}"); done
	# What one count query costs once the receiver is idle: the resolution
	# of the seconds above.
	local q0 lat=
	for _ in 1 2 3 4 5; do
		q0=$(date +%s%N)
		"count_$rcv" "$dir" >/dev/null
		lat="$lat $((($(date +%s%N) - q0) / 1000))"
	done
	local query_us
	# shellcheck disable=SC2086
	query_us=$(printf '%s\n' $lat | median)
	kill -INT "$replay" 2>/dev/null || true
	wait "$replay" 2>/dev/null || true
	# shellcheck disable=SC2086
	stop_pids $PIDS
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	local sent
	sent=$(awk '$1 == "seconds" { print $2 }' "$dir/replay.out")
	log "$input into $rcv, run $rep: $n prefixes in $secs s (sender done after $sent s)," \
		"peak RSS $((rss / 1024)) MiB, count query $((query_us / 1000)) ms"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$input" "$rcv" "$n" "$secs" "$rss" "$extra" "$query_us" \
		>>"$WORK/results.tsv"
}

log "$(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); work directory $WORK"
: >"$WORK/results.tsv"
for input in $INPUTS; do
	for rcv in $RECEIVERS; do
		for rep in $(seq "$REPEAT"); do
			run "$input" "$rcv" "$rep"
		done
	done
done

# --- the table ----------------------------------------------------------------

cell() { awk -F'\t' -v i="$1" -v r="$2" -v c="$3" '$1 == i && $2 == r { print $c }' "$WORK/results.tsv" | median; }
name() {
	case $1 in
	bgpd) echo "bgpd (this project)" ;;
	bird) echo "BIRD $(bird --version 2>&1 | awk '{ print $3 }')" ;;
	frr) echo "FRR $(/usr/lib/frr/bgpd -v | awk 'NR == 1 { print $3 }') bgpd" ;;
	gobgp) echo "GoBGP $(gobgpd --version | awk '{ print $3 }')" ;;
	esac
}

echo "| input | receiver | prefixes | seconds | peak RSS MiB | time vs BIRD | RSS vs BIRD | count query ms |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for input in $INPUTS; do
	bird_s=$(cell "$input" bird 4)
	bird_m=$(cell "$input" bird 5)
	for rcv in $RECEIVERS; do
		n=$(cell "$input" "$rcv" 3)
		s=$(cell "$input" "$rcv" 4)
		m=$(cell "$input" "$rcv" 5)
		z=$(cell "$input" "$rcv" 6)
		q=$(awk -v u="$(cell "$input" "$rcv" 7)" 'BEGIN { printf "%.0f", u / 1000 }')
		mem=$(awk -v k="$m" 'BEGIN { printf "%.1f", k / 1024 }')
		if [ "$rcv" = frr ]; then
			mem="$mem (+ zebra $(awk -v k="$z" 'BEGIN { printf "%.1f", k / 1024 }'))"
		fi
		if [ -n "${bird_s:-}" ]; then
			rs=$(awk -v a="$s" -v b="$bird_s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
			rm=$(awk -v a="$m" -v b="$bird_m" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
		else
			rs=- rm=-
		fi
		echo "| $(input_label "$input") | $(name "$rcv") | $n | $s | $mem | $rs | $rm | $q |"
	done
done
