// Package iamx is keyrot's thin layer over AWS: configuration loading, the
// handful of operations keyrot calls, the domain types it passes around,
// input validation with the API's own constraints, and the one place where
// AWS errors become keyrot error kinds.
//
// IAM and STS go through the SDK's clients. SSM, Secrets Manager,
// CloudTrail and Account go through internal/awsjson, a small client of
// their JSON protocols built on the SDK's signer, retryer and HTTP client:
// their SDK packages cost every keyrot command milliseconds of start-up for
// six operations used by a few commands (docs/performance.md).
//
// It holds no policy. Decisions such as which key a rotation replaces or
// whether a deactivation would lock the caller out belong to the callers.
package iamx
