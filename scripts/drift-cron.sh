#!/usr/bin/env bash
# Runs `pacs-reconcile drift` unattended (cron or a systemd timer): never two runs at once, a time
# limit, a timestamped log, and the drift command's exit code passed through:
#   0 clean, 2 drift or pending changes, 1 error, 3 invalid spec,
#   124 killed by the time limit, 75 skipped because the previous run is still going.
# Arguments are passed to `pacs-reconcile drift`; without any, it publishes the metric, notifies the
# alert topic when the findings change, and writes a JSON report.
# PACS_ENV=NAME checks that environment of the spec (`--env NAME`, `all` for every one) with its
# own lock, log and report, so environments never wait on each other (the systemd template
# pacs-reconcile-drift@NAME sets it from the instance name).
set -uo pipefail

PACS_RECONCILE=${PACS_RECONCILE:-pacs-reconcile}
SPEC_DIR=${PACS_SPEC_DIR:-$(pwd)}
STATE_DIR=${PACS_DRIFT_STATE_DIR:-/var/lib/pacs-reconcile}
ENVIRONMENT=${PACS_ENV:-}
if [ -n "$ENVIRONMENT" ] && [[ ! "$ENVIRONMENT" =~ ^[A-Za-z0-9_.-]+$ ]]; then
    echo "PACS_ENV=$ENVIRONMENT: not an environment name" >&2
    exit 3
fi
SUFFIX=${ENVIRONMENT:+-$ENVIRONMENT}
LOG_FILE=${PACS_DRIFT_LOG:-$STATE_DIR/drift$SUFFIX.log}
LOCK_FILE=${PACS_DRIFT_LOCK:-$STATE_DIR/drift$SUFFIX.lock}
TIME_LIMIT=${PACS_DRIFT_TIMEOUT:-600}
EX_SKIPPED=75

mkdir -p "$STATE_DIR" "$(dirname "$LOG_FILE")"
log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG_FILE"; }

exec 9>"$LOCK_FILE"
if ! flock --nonblock 9; then
    log "skipped: the previous drift run still holds $LOCK_FILE"
    exit "$EX_SKIPPED"
fi

if [ "$#" -eq 0 ]; then
    # under --env all, drift writes one report per environment: drift-report.ENV.json
    set -- --publish-metric --notify-topic sns_topics.alerts --report "$STATE_DIR/drift-report${ENVIRONMENT:+.$ENVIRONMENT}.json"
fi
if [ -n "$ENVIRONMENT" ]; then
    set -- --env "$ENVIRONMENT" "$@"
fi

log "start: $PACS_RECONCILE drift $*"
cd "$SPEC_DIR" || { log "error: cannot enter $SPEC_DIR"; exit 1; }
# SIGINT first so the tool stops cleanly; SIGKILL 30 s later if it does not.
timeout --signal=INT --kill-after=30 "$TIME_LIMIT" "$PACS_RECONCILE" --no-color drift "$@" \
    > >(while IFS= read -r line; do log "out: $line"; done) \
    2> >(while IFS= read -r line; do log "err: $line"; done)
status=$?
wait  # let the log readers finish
log "end: exit $status"
exit "$status"
