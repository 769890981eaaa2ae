package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/keyrot/keyrot/rotate/contain"
	"github.com/spf13/cobra"
)

// Exit codes: stable, documented in docs/exit-codes.md and in every
// command's help.
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitNotFound       = 3
	exitLimit          = 4
	exitService        = 5
	exitDenied         = 6
	exitGuard          = 7
	exitRolledBack     = 8
	exitRollbackFailed = 9
	exitPartial        = 10
	exitInterrupted    = 130
)

// exitCodes is the table printed by `keyrot help exit-codes`.
var exitCodes = []struct {
	Code    int
	Meaning string
}{
	{exitOK, "success (also: nothing to do)"},
	{exitError, "unexpected error"},
	{exitUsage, "invalid usage or input: flags, validation, an ambiguous selection"},
	{exitNotFound, "not found (IAM NoSuchEntity): no such user or key"},
	{exitLimit, "limit exceeded (IAM LimitExceeded), e.g. a third access key"},
	{exitService, "AWS service failure or throttling that outlasted retries, or the endpoint could not be reached"},
	{exitDenied, "access denied, or invalid, expired or missing credentials"},
	{exitGuard, "refused by a safety guard (lockout, in-use, a release too early)"},
	{exitRolledBack, "rotation failed and was rolled back: the old key is as it was (Active again, or Inactive for a replacement)"},
	{exitRollbackFailed, "rotation failed and rollback failed, or was not done because GitHub secrets may hold the new key: stderr prints the commands to recover"},
	{exitPartial, "bulk run finished with some users (or, with --org, accounts) failed; the others are done"},
	{exitFindings, "keyrot audit --fail-on-findings found findings"},
	{exitInterrupted, "interrupted (SIGINT/SIGTERM) after finishing or rolling back the step in flight"},
}

// exitHelp is the "Exit status" block of a command's long help: the codes
// it can return (all of them when none are given).
func exitHelp(codes ...int) string {
	var b strings.Builder
	b.WriteString("\n\nExit status:\n")
	for _, e := range exitCodes {
		if len(codes) == 0 || slices.Contains(codes, e.Code) {
			fmt.Fprintf(&b, "  %3d  %s\n", e.Code, e.Meaning)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// The codes each kind of command can return.
var (
	readCodes   = []int{exitOK, exitError, exitUsage, exitNotFound, exitService, exitDenied, exitInterrupted}
	changeCodes = []int{exitOK, exitError, exitUsage, exitNotFound, exitService, exitDenied, exitGuard, exitInterrupted}
	rotateCodes = []int{exitOK, exitError, exitUsage, exitNotFound, exitLimit, exitService, exitDenied, exitGuard,
		exitRolledBack, exitRollbackFailed, exitPartial, exitInterrupted}
)

func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit codes keyrot returns, for scripts",
		Long: `keyrot's exit codes are stable: scripts and cron jobs may rely on them.
Data goes to stdout, messages and errors to stderr.` + exitHelp(),
	}
}

// usageError is invalid usage or input: exit 2, nothing was sent to AWS.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// guardError is a refusal by a safety guard: exit 7, nothing changed.
type guardError struct{ msg string }

func (e *guardError) Error() string { return e.msg }

// hinted adds the next step to an error; reportError prints it on its own line.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

func withHint(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return &hinted{err, fmt.Sprintf(format, a...)}
}

// exitCode picks the code for an error: the one place that does.
func exitCode(err error) int {
	var (
		ue *usageError
		ge *guardError
		ce *codedError
	)
	if code, ok := rotate.ExitCode(err); ok {
		return code
	}
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue), errors.Is(err, iamx.ErrInvalidInput):
		return exitUsage
	case errors.As(err, &ge), errors.Is(err, contain.ErrGuard):
		return exitGuard
	case errors.Is(err, errInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, iamx.ErrNotFound):
		return exitNotFound
	case errors.Is(err, iamx.ErrKeyLimit):
		return exitLimit
	case errors.Is(err, iamx.ErrServiceFailure), errors.Is(err, iamx.ErrThrottled), errors.Is(err, iamx.ErrUnreachable):
		return exitService
	case errors.Is(err, iamx.ErrAccessDenied), errors.Is(err, iamx.ErrInvalidCredentials), errors.Is(err, iamx.ErrNoCredentials):
		return exitDenied
	}
	return exitError
}

// codedError carries an exit code decided by the command itself (the
// rotation outcomes 8 and 9, a bulk run's 10).
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// kindHint is the generic next step for an error kind, used when the
// command gave none.
func kindHint(err error) string {
	var te *iamx.TimeoutError
	if errors.As(err, &te) {
		return fmt.Sprintf("check --endpoint-url, AWS_ENDPOINT_URL and the network; to wait longer, raise %s (seconds)", te.Flag())
	}
	switch {
	case errors.Is(err, iamx.ErrThrottled):
		return "IAM throttled the requests beyond the retries; wait a minute and run it again, or raise AWS_MAX_ATTEMPTS"
	case errors.Is(err, iamx.ErrServiceFailure):
		return "IAM failed on its side; nothing is known to have changed, run the same command again"
	case errors.Is(err, iamx.ErrUnreachable):
		return "check the network, --endpoint-url and AWS_ENDPOINT_URL"
	case errors.Is(err, iamx.ErrInvalidCredentials):
		return "the credentials keyrot signs with are not valid (unknown, inactive or expired key); check AWS_PROFILE, --profile or AWS_ACCESS_KEY_ID"
	case errors.Is(err, iamx.ErrMFACodeNeeded):
		return "run keyrot on a terminal to be asked for the code, or sign with session credentials: aws sts assume-role --role-arn ARN --role-session-name NAME --serial-number SERIAL --token-code CODE"
	case errors.As(err, new(*iamx.SSOLoginError)):
		return "" // the message says what to run
	case errors.Is(err, iamx.ErrNoCredentials) && strings.Contains(err.Error(), "MultiFactorAuthentication failed"):
		return "STS did not accept the MFA code (mistyped, or already used for this device): run the command again with the next code"
	case errors.Is(err, iamx.ErrNoCredentials):
		return "configure credentials as for the AWS CLI (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
	case errors.Is(err, iamx.ErrAccessDenied):
		return "the signing identity lacks the IAM permission; see docs/permissions.md for the policy each command needs"
	}
	return ""
}

// reportError prints err once, with its next step, and returns the exit code.
func reportError(w io.Writer, err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	msg := err.Error()
	if code == exitInterrupted && !strings.Contains(msg, "interrupt") {
		msg = "interrupted: " + msg
	}
	fmt.Fprintf(w, "keyrot: %s\n", msg)
	var h *hinted
	hint := ""
	switch {
	case errors.As(err, &h):
		hint = h.hint
	case code == exitService || code == exitDenied:
		// Only where the kind decided the exit code: after a rollback (8),
		// a failed one (9) or a bulk run (10) the error's own text says
		// what happened, and "nothing changed" would contradict it.
		hint = kindHint(err)
	}
	if hint != "" {
		fmt.Fprintf(w, "keyrot: %s\n", hint)
	}
	return code
}
