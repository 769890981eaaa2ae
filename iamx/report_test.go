package iamx

import (
	"testing"
	"time"
)

const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"

func TestParseReport(t *testing.T) {
	csv := reportHeader +
		"<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"bob,arn:aws:iam::123456789012:user/bob,2021-03-04T05:06:07+00:00,false,N/A,N/A,N/A,false,true,2026-01-02T03:04:05+00:00,2026-11-20T10:00:00+00:00,us-east-1,s3,false,2025-06-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"
	rep, err := ParseReport([]byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Users) != 2 {
		t.Fatalf("got %d users, want 2", len(rep.Users))
	}
	root, bob := rep.Users[0], rep.Users[1]
	if root.User != RootUser || root.Keys[0].Present || root.Keys[1].Present {
		t.Errorf("root row = %+v", root)
	}
	k1, k2 := bob.Keys[0], bob.Keys[1]
	if !k1.Present || !k1.Active || !k1.LastRotated.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("bob key 1 = %+v", k1)
	}
	if k1.LastUsed.Service != "s3" || k1.LastUsed.Region != "us-east-1" || k1.LastUsed.Date.IsZero() {
		t.Errorf("bob key 1 last used = %+v", k1.LastUsed)
	}
	if !k2.Present || k2.Active || !k2.LastUsed.Date.IsZero() || k2.LastUsed.Service != "" {
		t.Errorf("bob key 2 = %+v", k2)
	}
}

func TestParseReportErrors(t *testing.T) {
	for _, in := range []string{"", "a,b\n", "user,arn\n\"unterminated\n"} {
		if _, err := ParseReport([]byte(in)); err == nil {
			t.Errorf("ParseReport(%q) = nil error", in)
		}
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add([]byte(reportHeader + "bob,arn:aws:iam::1:user/bob,N/A,false,N/A,N/A,N/A,false,true,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"))
	f.Add([]byte("user,arn\nx\n"))
	f.Add([]byte("user,arn,access_key_1_active,access_key_1_last_rotated\nu,a,true,2026-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseReport(data)
		if err != nil {
			return
		}
		for _, u := range rep.Users {
			for _, k := range u.Keys {
				if k.Active && !k.Present {
					t.Fatalf("active key not present: %+v", k)
				}
			}
		}
	})
}
