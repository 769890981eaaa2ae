package iamx

import "testing"

// FuzzTrailEvent: a CloudTrail record of any shape never panics the
// parser; the LookupEvents fields survive a record that does not parse.
func FuzzTrailEvent(f *testing.F) {
	f.Add(`{"awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli","responseElements":{"credentials":{"accessKeyId":"ASIAX"}}}`)
	f.Add(`{"responseElements":null}`)
	f.Add(`{"responseElements":"string"}`)
	f.Fuzz(func(t *testing.T, record string) {
		e := trailEvent(trailRecord{EventID: "id", EventName: "ListUsers", CloudTrailEvent: record}, "us-east-1")
		if e.ID != "id" || e.Name != "ListUsers" || e.Region == "" {
			t.Fatalf("fields lost: %+v", e)
		}
	})
}
