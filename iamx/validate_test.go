package iamx

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidateAccessKeyID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string // "" = valid; else a fragment of the error
	}{
		{"AKIAIOSFODNN7EXAMPLE", ""},
		{"akia_lower_case_ok", ""},
		{strings.Repeat("A", 16), ""},
		{strings.Repeat("A", 128), ""},
		{strings.Repeat("A", 15), "16 to 128 characters long, this one has 15"},
		{strings.Repeat("A", 129), "this one has 129"},
		{"", "this one has 0"},
		{"AKIAIOSFODNN7EXAMPL-", `not '-'`},
		{"AKIAIOSFODNN7EXAMPL\u00e9", "only letters, digits and _"},
		{"AKIAIOSFODNN7 EXAMPLE", `not ' '`},
	} {
		err := ValidateAccessKeyID("--access-key-id", tc.id)
		if tc.want == "" {
			if err != nil {
				t.Errorf("ValidateAccessKeyID(%q) = %v, want nil", tc.id, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateAccessKeyID(%q) = %v, want error containing %q", tc.id, err, tc.want)
		}
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "--access-key-id") {
			t.Errorf("ValidateAccessKeyID(%q) = %v: want ErrInvalidInput naming the flag", tc.id, err)
		}
	}
}

func TestValidateUserName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"Bob", true},
		{"b", true},
		{"svc+ci=prod,eu.team@example-1_x", true},
		{strings.Repeat("u", 128), true},
		{strings.Repeat("u", 129), false},
		{"", false},
		{"bob smith", false},
		{"bob/ops", false},
		{"bob;rm", false},
		{"b\u00f6b", false},
	} {
		err := ValidateUserName("--user", tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateUserName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]Status{"Active": StatusActive, "active": StatusActive, "ACTIVE": StatusActive, "inActive": StatusInactive, "Inactive": StatusInactive} {
		got, err := ParseStatus("--status", in)
		if err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "on", "Enabled", "Active ", "Inactiv"} {
		if _, err := ParseStatus("--status", in); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ParseStatus(%q) = %v, want ErrInvalidInput", in, err)
		}
	}
}

// The validators must agree with the API's documented patterns.
var (
	keyPattern  = regexp.MustCompile(`^[\w]{16,128}$`)
	userPattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

func FuzzValidateAccessKeyID(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", "", "x", "AKIA\x00IOSFODNN7EXAMPLE", strings.Repeat("Z", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateAccessKeyID("--access-key-id", s)
		if (err == nil) != keyPattern.MatchString(s) {
			t.Fatalf("ValidateAccessKeyID(%q) = %v, pattern says %v", s, err, keyPattern.MatchString(s))
		}
	})
}

func FuzzValidateUserName(f *testing.F) {
	for _, s := range []string{"Bob", "", "a b", "x@y.z", "\xff", strings.Repeat("n", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateUserName("--user", s)
		if (err == nil) != userPattern.MatchString(s) {
			t.Fatalf("ValidateUserName(%q) = %v, pattern says %v", s, err, userPattern.MatchString(s))
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{"Active", "inactive", "", "ACTIVE\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStatus("--status", s)
		if err == nil && st != StatusActive && st != StatusInactive {
			t.Fatalf("ParseStatus(%q) = %q", s, st)
		}
		if err == nil != (strings.EqualFold(s, "active") || strings.EqualFold(s, "inactive")) {
			t.Fatalf("ParseStatus(%q) err = %v", s, err)
		}
	})
}

// Messages name the character as typed and count characters, not bytes.
func TestValidateMessagesUseCharacters(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{ValidateUserName("--user", "ユーザー"), `not 'ユ'`},
		{ValidateUserName("--user", strings.Repeat("é", 129)), "this one has 129"},
		{ValidateUserName("--user", "bob\xff"), "not a byte that is not UTF-8"},
		{ValidateAccessKeyID("--access-key-id", "AKIAIOSFODNN7EXAMPLÉ"), `not 'É'`},
		{ValidateAccessKeyID("--access-key-id", strings.Repeat("é", 10)), "this one has 10"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", tc.err, tc.want)
		}
	}
}

func TestValidateOrgNames(t *testing.T) {
	for _, tc := range []struct {
		fn    func(string, string) error
		value string
		ok    bool
	}{
		{ValidateAccountID, "123456789012", true},
		{ValidateAccountID, "12345678901", false},
		{ValidateAccountID, "12345678901x", false},
		{ValidateOUID, "ou-ab12-cd34ef56", true},
		{ValidateOUID, "r-ab12", true},
		{ValidateOUID, "ou-AB12-cd34ef56", false},
		{ValidateOUID, "prod", false},
		{ValidateRoleName, "OrganizationAccountAccessRole", true},
		{ValidateRoleName, "bad role", false},
		{ValidateRoleName, strings.Repeat("r", 65), false},
		{ValidateExternalID, "s3cr3t-ext:1/2", true},
		{ValidateExternalID, "x", false},
	} {
		err := tc.fn("--flag", tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok %v", tc.value, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--flag") {
			t.Errorf("%q: %v does not name the flag", tc.value, err)
		}
	}
}

// FuzzValidateOrgNames: the organization validators never panic, and what
// they accept has the shape they promise.
func FuzzValidateOrgNames(f *testing.F) {
	for _, s := range []string{"123456789012", "ou-ab12-cd34ef56", "r-ab12", "ünï", "", "ou--", "r-", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateAccountID("--accounts", s) == nil && (len(s) != 12 || strings.Trim(s, "0123456789") != "") {
			t.Fatalf("account ID %q accepted", s)
		}
		if ValidateOUID("--ou", s) == nil && !strings.HasPrefix(s, "ou-") && !strings.HasPrefix(s, "r-") {
			t.Fatalf("OU ID %q accepted", s)
		}
		if ValidateRoleName("--role-name", s) == nil && (s == "" || strings.ContainsAny(s, " \t\n/:")) {
			t.Fatalf("role name %q accepted", s)
		}
		_ = ValidateExternalID("--external-id", s)
	})
}
