#!/bin/sh
# A blue-green release with bgdns, as a CI pipeline runs it.
#
#   SERVICE=api.bg.example.com VERSION=2.0 ADDRS=10.0.0.21,10.0.0.22 \
#   BGDNS_SERVER=https://ns1:8053,https://ns2:8053,https://ns3:8053 \
#   BGDNS_CACERT=ca.pem BGDNS_TOKEN=... ./pipeline.sh
#
# 1. deploy VERSION onto the idle colour (ADDRS: its addresses);
# 2. switch to it once its health gate passes (min_healthy healthy
#    addresses), and wait until every nameserver answers with it;
# 3. rehearse the way back while the old colour is still deployed: roll
#    back, then switch again (ROLLBACK_DRILL=0 skips this);
# 4. run SMOKE_TEST, if given, against the live name; if it fails, roll
#    back and fail;
# 5. complete once no resolver can still hold the old answer (the retire
#    watermark), which retires the old colour.
#
# The script has no retry logic of its own: bgdns tries the next server of
# BGDNS_SERVER, with backoff, while a server is down or the cluster elects
# a leader (up to --retry-for, 15s by default), and every write carries a
# request id, so a retried write is applied once. On failure, the script
# exits with bgdns's exit code (see `bgdns help exit-codes`): 2 refused,
# 3 not confirmed on every node in time, 4 precondition failed (health
# gate, freeze, retire watermark), 5 cluster unreachable.
set -eu

: "${SERVICE:?set SERVICE to the service name}"
: "${VERSION:?set VERSION to the version being released}"
: "${ADDRS:?set ADDRS to the new pool addresses, comma-separated}"
BGDNS=${BGDNS:-bgdns}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-5m}   # how long the new colour may take to become healthy
WAIT_TIMEOUT=${WAIT_TIMEOUT:-30s}      # how long every nameserver may take to apply a change
RETIRE_TIMEOUT=${RETIRE_TIMEOUT:-10m}  # how long to wait for the retire watermark
ROLLBACK_DRILL=${ROLLBACK_DRILL:-1}
SMOKE_TEST=${SMOKE_TEST:-}
REASON=${REASON:-"release $VERSION"}

step() { printf '==> %s\n' "$*"; }

step "deploy $VERSION to the idle colour of $SERVICE"
"$BGDNS" deploy "$SERVICE" --version "$VERSION" --addr "$ADDRS" --reason "$REASON" --wait --wait-timeout "$WAIT_TIMEOUT"

step "switch $SERVICE to $VERSION once it is healthy"
"$BGDNS" switch "$SERVICE" --wait-healthy --wait --wait-timeout "$HEALTH_TIMEOUT" --reason "$REASON"

if [ "$ROLLBACK_DRILL" = 1 ]; then
	step "rollback drill: back to the previous colour, then forward again"
	"$BGDNS" rollback "$SERVICE" --reason "rollback drill for $VERSION" --wait --wait-timeout "$WAIT_TIMEOUT"
	"$BGDNS" switch "$SERVICE" --reason "$REASON, after the rollback drill" --wait --wait-timeout "$WAIT_TIMEOUT"
fi

if [ -n "$SMOKE_TEST" ]; then
	step "smoke test: $SMOKE_TEST"
	if ! sh -c "$SMOKE_TEST"; then
		step "smoke test failed: rolling back"
		"$BGDNS" rollback "$SERVICE" --reason "smoke test of $VERSION failed" --wait --wait-timeout "$WAIT_TIMEOUT"
		exit 1
	fi
fi

step "complete $SERVICE once the old colour can be retired"
"$BGDNS" complete "$SERVICE" --wait-safe --wait-timeout "$RETIRE_TIMEOUT" --reason "$REASON"

step "released $VERSION of $SERVICE"
