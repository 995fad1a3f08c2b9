#!/usr/bin/env bash
# Runs `pacs-reconcile drift` unattended (cron or a systemd timer): never two runs at once, a time
# limit, a timestamped log, and the drift command's exit code passed through:
#   0 clean, 2 drift or pending changes, 1 error, 3 invalid spec,
#   124 killed by the time limit, 75 skipped because the previous run is still going.
# Arguments are passed to `pacs-reconcile drift`; without any, it publishes the metric, notifies the
# alert topic when the findings change, and writes a JSON report.
set -uo pipefail

PACS_RECONCILE=${PACS_RECONCILE:-pacs-reconcile}
SPEC_DIR=${PACS_SPEC_DIR:-$(pwd)}
STATE_DIR=${PACS_DRIFT_STATE_DIR:-/var/lib/pacs-reconcile}
LOG_FILE=${PACS_DRIFT_LOG:-$STATE_DIR/drift.log}
LOCK_FILE=${PACS_DRIFT_LOCK:-$STATE_DIR/drift.lock}
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
    set -- --publish-metric --notify-topic sns_topics.alerts --report "$STATE_DIR/drift-report.json"
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
