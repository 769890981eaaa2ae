#!/usr/bin/env bash
# keyrot --exec hook: store a user's new access key in AWS Secrets Manager.
#
#   keyrot enforce --exec /usr/local/lib/keyrot/store-secret-secretsmanager.sh ...
#   keyrot rotate --all-users --older-than 90d --exec /usr/local/lib/keyrot/store-secret-secretsmanager.sh ...
#
# keyrot runs this once per rotated user, through sh -c, with the new key in
# the environment only:
#   AWS_ACCESS_KEY_ID          the new key's ID
#   AWS_SECRET_ACCESS_KEY      its secret
#   KEYROT_USER                the IAM user it belongs to
#   KEYROT_OLD_ACCESS_KEY_ID   the key it replaces
# Exit 0 only once the secret is stored: on any other status keyrot rolls
# the rotation back (the old key stays Active, the new key is deleted).
#
# The secret is written as a new version of the secret named
# "${KEYROT_SECRET_PREFIX}${KEYROT_USER}" (default prefix "keyrot/"), as JSON:
#   {"AccessKeyId":"...","SecretAccessKey":"...","UserName":"..."}
# Secrets Manager moves AWSCURRENT to the new version and AWSPREVIOUS to the
# one before, so consumers that read AWSCURRENT get the new key.
#
# Never on a command line: the secret reaches the AWS CLI on its stdin
# (--secret-string file:///dev/stdin), written by printf, a bash builtin
# that starts no process. Nothing here prints it; this script's stdout and
# stderr end up in keyrot's stderr (and so in cron mail, the journal or pod
# logs).
#
# Settings (environment, all optional):
#   KEYROT_SECRET_PREFIX    secret name prefix (default "keyrot/")
#   KEYROT_SECRET_KMS_KEY   KMS key for secrets this hook creates (default: aws/secretsmanager)
#   KEYROT_STORE_PROFILE    AWS profile for the Secrets Manager calls (keyrot
#                           removes AWS_PROFILE from this environment); leave
#                           unset for a role (IRSA, instance profile) or the
#                           default profile
#   KEYROT_STORE_REGION     region of the secrets (default: AWS_REGION, then the profile's)
set -euo pipefail

: "${KEYROT_USER:?run this from keyrot --exec: KEYROT_USER is not set}"
: "${AWS_ACCESS_KEY_ID:?run this from keyrot --exec: AWS_ACCESS_KEY_ID is not set}"
: "${AWS_SECRET_ACCESS_KEY:?run this from keyrot --exec: AWS_SECRET_ACCESS_KEY is not set}"

new_id=$AWS_ACCESS_KEY_ID
new_secret=$AWS_SECRET_ACCESS_KEY
# The new key belongs to KEYROT_USER, not to this job: sign the Secrets
# Manager calls with the job's own identity, never with the new key.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
if [[ -n ${KEYROT_STORE_PROFILE:-} ]]; then
	export AWS_PROFILE=$KEYROT_STORE_PROFILE
fi
if [[ -n ${KEYROT_STORE_REGION:-} ]]; then
	export AWS_REGION=$KEYROT_STORE_REGION
fi

# IAM key IDs, secrets and user names hold no character that JSON would need
# escaped; refuse anything else rather than write a broken document.
json_safe='^[A-Za-z0-9_+=,.@/-]+$'
for v in "$new_id" "$new_secret" "$KEYROT_USER"; do
	if [[ ! $v =~ $json_safe ]]; then
		echo "store-secret: unexpected characters in the key or user name of $KEYROT_USER; nothing stored" >&2
		exit 1
	fi
done

secret_id="${KEYROT_SECRET_PREFIX-keyrot/}${KEYROT_USER}"

secret_json() {
	printf '{"AccessKeyId":"%s","SecretAccessKey":"%s","UserName":"%s"}' "$new_id" "$new_secret" "$KEYROT_USER"
}

if err=$(aws secretsmanager describe-secret --secret-id "$secret_id" --query ARN --output text 2>&1 >/dev/null); then
	secret_json | aws secretsmanager put-secret-value \
		--secret-id "$secret_id" \
		--secret-string file:///dev/stdin \
		--query VersionId --output text >/dev/null
elif [[ $err == *ResourceNotFoundException* ]]; then
	create=(--name "$secret_id" --description "IAM access key of $KEYROT_USER, written by keyrot")
	if [[ -n ${KEYROT_SECRET_KMS_KEY:-} ]]; then
		create+=(--kms-key-id "$KEYROT_SECRET_KMS_KEY")
	fi
	secret_json | aws secretsmanager create-secret "${create[@]}" \
		--secret-string file:///dev/stdin \
		--query ARN --output text >/dev/null
else
	echo "store-secret: cannot look up $secret_id: $err" >&2
	exit 1
fi
echo "store-secret: stored $new_id of $KEYROT_USER in $secret_id (replaces ${KEYROT_OLD_ACCESS_KEY_ID:-none})"
