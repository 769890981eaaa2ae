// Package iamx is keyrot's thin layer over IAM and STS: configuration
// loading, the handful of operations keyrot calls, the domain types it
// passes around, input validation with the API's own constraints, and the
// one place where AWS errors become keyrot error kinds.
//
// It holds no policy. Decisions such as which key a rotation replaces or
// whether a deactivation would lock the caller out belong to the callers.
package iamx
