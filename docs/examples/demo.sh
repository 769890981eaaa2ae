#!/usr/bin/env bash
# A short, real keyrot session against the local IAM/STS simulator:
# list, deactivate, activate, update, containing a leaked key, rotating
# into Secrets Manager and GitHub, auditing a whole organization, and the
# errors keyrot gives.
# Run it with `make demo`; it starts and stops its own simulator.
set -uo pipefail
BIN=${BIN:-bin}
tmp=$(mktemp -d)
"$BIN/iamsim" --demo --addr 127.0.0.1:0 --env-file "$tmp/env" >"$tmp/iamsim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$tmp"' EXIT

for _ in $(seq 100); do [ -s "$tmp/env" ] && break; sleep 0.05; done
if [ ! -s "$tmp/env" ]; then
	echo "demo: the simulator did not start:" >&2
	cat "$tmp/iamsim.log" >&2
	exit 1
fi
set -a
. "$tmp/env"
set +a
# Keep the operator's own AWS files out of the demo.
export AWS_CONFIG_FILE="$tmp/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/credentials"
export XDG_STATE_HOME="$tmp/state"
echo "Simulator at $AWS_ENDPOINT_URL, signing as the demo admin ($AWS_ACCESS_KEY_ID)."

# Bold command lines on a terminal only: a log or a pipe gets plain text.
bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); fi

run() {
	printf '\n%s$ keyrot %s%s\n' "$bold" "$*" "$plain"
	"$BIN/keyrot" "$@"
	local rc=$?
	[ $rc -ne 0 ] && echo "(exit status $rc)"
	return 0
}

run list --user alice --output table
run list --user bob --output table
run list --all-users --output table
alice_key=$("$BIN/keyrot" list --user alice --query 'AccessKeyMetadata[0].AccessKeyId' --output text)

echo; echo "# Incident response: turn off everything Bob has."
run deactivate --user bob --dry-run
run deactivate --user bob
echo; echo "# Carol has exactly one Inactive key, so activate needs no ID."
run activate --user carol
echo; echo "# The plain UpdateAccessKey, status in any case, JSON out."
run update --user alice --access-key-id "$alice_key" --status inactive --output json
run update --user alice --access-key-id "$alice_key" --status Active

ci_key=$("$BIN/keyrot" list --user ci-bot --query 'AccessKeyMetadata[0].AccessKeyId' --output text)
echo; echo "# ci-bot's key was pasted into a public issue. One command: find the owner,"
echo "# deactivate the key, revoke the sessions minted from it, show who used it."
run contain --access-key-id "$ci_key" --output table
echo; echo "# Who used it, grouped; --output json lists every event for a script."
run usage --access-key-id "$ci_key" --regions us-east-1,eu-west-1 --output table
echo; echo "# ci-bot gets a replacement, straight into the Secrets Manager secret its"
echo "# deploy jobs read (created here; an existing one keeps its other fields)"
echo "# and the GitHub Actions secrets of the repository that deploys with it"
echo "# (sealed for the repository; written last). The contained key stays Inactive."
run rotate --user ci-bot --verify-interval 200ms --secret-id ci/ci-bot/aws --github-secret acme/deploy
run list --user ci-bot --output table

echo; echo "# The demo account manages an organization: audit every account at once,"
echo "# each from its own credential report through OrganizationAccountAccessRole."
echo "# The suspended sandbox account is skipped; the findings carry their account."
run audit --org --output table
echo; echo "# What enforcing the policy would change across the organization (nothing is changed)."
run enforce --org --dry-run --max-unused 0 --output table

echo; echo "# Errors name the problem and the next step; exit codes are stable."
run activate --user bob
run update --user alice --access-key-id "$alice_key" --status Enabled
run deactivate --user nobody
run deactivate --access-key-id "$AWS_ACCESS_KEY_ID"
run list --user alice --output table
