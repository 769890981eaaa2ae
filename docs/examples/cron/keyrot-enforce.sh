#!/usr/bin/env bash
# Nightly `keyrot enforce` for cron: bring every IAM user's access keys within
# the key policy, new secrets to AWS Secrets Manager, one JSON line per user
# and action in the audit log. See docs/fleet.md.
#
#   17 3 * * *  keyrot  /usr/local/lib/keyrot/keyrot-enforce.sh
#
# Extra arguments go to `keyrot enforce` as they are, e.g. `--dry-run`,
# `--path /svc/`, or `--org --role-name KeyrotFleet` for every account of
# an AWS Organization (state then kept per account under accounts/ID). Settings come from the environment (cron sets almost
# nothing, so set them in the crontab or in /etc/keyrot/enforce.env):
#
#   KEYROT                       keyrot binary (default: keyrot on PATH)
#   KEYROT_STATE_DIR             journals, locks and the Inactive-key ledger:
#                                must persist between runs (default /var/lib/keyrot)
#   KEYROT_LOG_DIR               enforce.log and audit.jsonl (default /var/log/keyrot)
#   KEYROT_SECRET_ID             the Secrets Manager secret of each user's new key
#                                (default keyrot/{user}; in AWS_REGION)
#   KEYROT_HOOK                  an --exec destination instead, such as
#                                /usr/local/lib/keyrot/store-secret-secretsmanager.sh
#   KEYROT_MAX_AGE               rotate Active keys older than this (default 90d; 0: never)
#   KEYROT_MAX_UNUSED            deactivate Active keys unused this long (default 45d; 0: never)
#   KEYROT_DELETE_INACTIVE_AFTER delete keys Inactive this long (default 30d; 0: never)
#   KEYROT_RUN_LOCK              flock file that keeps two runs apart
#                                (default $KEYROT_STATE_DIR/enforce.run.lock; "none": the
#                                scheduler already does, as systemd timers and
#                                CronJobs with concurrencyPolicy: Forbid do)
#   AWS_PROFILE, AWS_REGION ...  the identity keyrot signs with, as for the AWS CLI
#
# Output: every run appends keyrot's messages to $KEYROT_LOG_DIR/enforce.log;
# this script prints nothing when all went well, so cron mails only failures.
# It exits with keyrot's status:
#    0  every selected user is within policy (or nothing was due)
#   10  some users failed or were blocked; the others are done, and the next
#       run retries them (the mail lists who and why)
#    2  a setting is wrong: fix the environment or the arguments
#    5  IAM or the network failed beyond retries: the next run tries again
#    6  access denied or bad credentials: see the policies in docs/fleet.md
#  130  stopped by a signal after the rotations in flight were rolled back
#   75  the previous run still holds the run lock: this one did nothing
set -euo pipefail

keyrot=${KEYROT:-keyrot}
state_dir=${KEYROT_STATE_DIR:-/var/lib/keyrot}
log_dir=${KEYROT_LOG_DIR:-/var/log/keyrot}
if [ -n "${KEYROT_HOOK:-}" ]; then
	destination="--exec=$KEYROT_HOOK"
else
	default_id='keyrot/{user}'
	destination="--secret-id=${KEYROT_SECRET_ID:-$default_id}"
fi
run_lock=${KEYROT_RUN_LOCK:-$state_dir/enforce.run.lock}

umask 077
mkdir -p "$state_dir" "$log_dir"

# keyrot locks each user while it rotates; keep whole runs apart as well, so
# that a slow run is never overlapped (twice the request rate, interleaved
# logs). flock releases the lock when this script exits, even on kill -9.
if [[ $run_lock != none ]]; then
	if ! command -v flock >/dev/null; then
		echo "keyrot-enforce: flock (util-linux) is missing; install it, or set KEYROT_RUN_LOCK=none if the scheduler never starts two runs" >&2
		exit 2
	fi
	exec 9>>"$run_lock"
	if ! flock -n 9; then
		echo "keyrot-enforce: the previous run still holds $run_lock; skipping this one" >&2
		exit 75
	fi
fi

run_log=$(mktemp)
trap 'rm -f "$run_log"' EXIT

rc=0
"$keyrot" enforce \
	--max-age "${KEYROT_MAX_AGE:-90d}" \
	--max-unused "${KEYROT_MAX_UNUSED:-45d}" \
	--delete-inactive-after "${KEYROT_DELETE_INACTIVE_AFTER:-30d}" \
	"$destination" \
	--state-dir "$state_dir" \
	--audit-log "$log_dir/audit.jsonl" \
	--output text \
	"$@" >"$run_log" 2>&1 9>&- || rc=$?

{
	printf '== %s keyrot enforce: exit %d\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$rc"
	cat "$run_log"
} >>"$log_dir/enforce.log"

case $rc in
0) exit 0 ;;
10) echo "keyrot-enforce: some users failed or were blocked (exit 10); the others are done and the next run retries them:" >&2 ;;
2) echo "keyrot-enforce: invalid settings or arguments (exit 2); nothing was sent to AWS:" >&2 ;;
5) echo "keyrot-enforce: IAM or the network failed beyond retries (exit 5); the next run tries again:" >&2 ;;
6) echo "keyrot-enforce: access denied or invalid credentials (exit 6); see docs/fleet.md for the policy:" >&2 ;;
130) echo "keyrot-enforce: interrupted (exit 130); rotations in flight were rolled back, the next run finishes the rest:" >&2 ;;
*) echo "keyrot-enforce: keyrot enforce exited $rc:" >&2 ;;
esac
# The lines that matter: failures, the summary and the next step (keyrot
# never prints a secret; the hook must not either).
grep -E '^(keyrot:|enforce:|store-secret:)' "$run_log" >&2 || cat "$run_log" >&2
echo "keyrot-enforce: full output in $log_dir/enforce.log, one JSON line per user and action in $log_dir/audit.jsonl" >&2
exit "$rc"
