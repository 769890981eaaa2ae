package iamx

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// An assume-role profile without duration_seconds gets STS's default
// session of an hour, as the AWS CLI does, not the SDK's 15 minutes: an
// mfa_serial profile's one prompt lasts a long fleet run. A longer
// duration_seconds (which the SDK has set by then) is kept.
func TestAssumeRoleDuration(t *testing.T) {
	fn := assumeRoleOptions(LoadOptions{})
	var o stscreds.AssumeRoleOptions
	fn(&o)
	if o.Duration != time.Hour {
		t.Errorf("default duration %s, want 1h", o.Duration)
	}
	o = stscreds.AssumeRoleOptions{Duration: 4 * time.Hour}
	fn(&o)
	if o.Duration != 4*time.Hour {
		t.Errorf("duration_seconds 4h became %s", o.Duration)
	}
}
