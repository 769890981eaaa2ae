#!/usr/bin/env bash
# CI gate: fail the pipeline while any IAM access key breaks the key policy.
#
#   docs/examples/ci/keyrot-audit-gate.sh            # every finding counts
#   KEYROT_GATE_KINDS="KeyTooOld KeyUnused RootAccessKey" docs/examples/ci/keyrot-audit-gate.sh
#
# Needs only iam:GenerateCredentialReport and iam:GetCredentialReport (the
# "audit" policy in docs/fleet.md); changes nothing. Give the job a read-only
# role, never the enforce role.
#
# Settings (environment):
#   KEYROT              keyrot binary (default: keyrot on PATH)
#   KEYROT_MAX_AGE      findings for Active keys older than this (default 90d)
#   KEYROT_MAX_UNUSED   findings for Active keys unused this long (default 45d)
#   KEYROT_GATE_KINDS   finding kinds that fail the gate, space-separated
#                       (default: all five: KeyTooOld KeyUnused TwoActiveKeys
#                       RootAccessKey InactiveKey)
#   KEYROT_ARTIFACT     where the findings go as CSV, for the CI artifact
#                       (default keyrot-findings.csv)
#
# Exit status: 0 pass; 11 findings (the gate failed); anything else is
# keyrot's own code (5: IAM or network trouble, retry the job; 6: the role
# lacks the two permissions; see docs/exit-codes.md).
#
# Runbook, when the gate fails:
#   1. Read the findings below (or the CSV artifact). The credential report
#      names keys by slot (1 or 2): `keyrot list --user U` shows their IDs.
#   2. KeyTooOld: rotate. Nightly `keyrot enforce` does it; by hand:
#        keyrot rotate --user U --exec ./store-secret-secretsmanager.sh
#      KeyUnused: `keyrot deactivate --user U --access-key-id ID --unused-for 45d`
#      TwoActiveKeys: find which key is still used (`keyrot list --user U`),
#        deactivate the other.
#      InactiveKey: delete it once nothing needs it back
#        (`aws iam delete-access-key --user-name U --access-key-id ID`), or let
#        `keyrot enforce --delete-inactive-after 30d` do it.
#      RootAccessKey: sign in as root and delete the key; keyrot never touches root.
#   3. Re-run the job. IAM regenerates the credential report at most every
#      4 hours, so a fix can take that long to show here; the summary line
#      says when the report was generated.
set -euo pipefail

keyrot=${KEYROT:-keyrot}
artifact=${KEYROT_ARTIFACT:-keyrot-findings.csv}
kinds=${KEYROT_GATE_KINDS:-}
policy=(--max-age "${KEYROT_MAX_AGE:-90d}" --max-unused "${KEYROT_MAX_UNUSED:-45d}")

# The findings that fail the gate, picked with keyrot's JMESPath --query
# (a second read of the same cached report: 2 requests).
filter='Findings[]'
if [[ -n $kinds ]]; then
	list=""
	for k in $kinds; do
		case $k in
		KeyTooOld | KeyUnused | TwoActiveKeys | RootAccessKey | InactiveKey) ;;
		*)
			echo "keyrot-audit-gate: unknown finding kind in KEYROT_GATE_KINDS: $k" >&2
			exit 2
			;;
		esac
		list+="${list:+,}\"$k\""
	done
	filter="Findings[?contains(\`[$list]\`, Finding)]"
fi

# Every finding, whatever the gate counts, goes to the artifact. Without
# KEYROT_GATE_KINDS, keyrot's own --fail-on-findings decides (exit 11).
gate=(--fail-on-findings)
if [[ -n $kinds ]]; then
	gate=()
fi
rc=0
"$keyrot" audit "${policy[@]}" "${gate[@]}" --output csv >"$artifact" || rc=$?
case $rc in
0)
	if [[ -z $kinds ]]; then
		echo "keyrot-audit-gate: no findings"
		exit 0
	fi
	;;
11) ;;
*)
	echo "keyrot-audit-gate: keyrot audit failed with exit $rc (see the messages above); the gate did not run" >&2
	exit "$rc"
	;;
esac

failing=$("$keyrot" audit "${policy[@]}" --quiet --output text \
	--query "$filter.[UserName, AccessKeySlot || '-', Finding, Detail]")

if [[ -z $failing ]]; then
	echo "keyrot-audit-gate: passed: no finding of the kinds $kinds; every finding is in $artifact"
	exit 0
fi
echo "keyrot-audit-gate: FAILED: $(wc -l <<<"$failing") findings${kinds:+ of kinds $kinds}; all findings are in $artifact" >&2
echo "user	key slot	finding	detail" >&2
printf '%s\n' "$failing" >&2
echo "keyrot-audit-gate: see the runbook at the top of $0" >&2
exit 11
