package fleet

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyrot/keyrot/iamx"
)

func arnRow(user, path string) iamx.ReportUser {
	return iamx.ReportUser{User: user, ARN: "arn:aws:iam::123456789012:user" + path + user}
}

func TestSelectorMatch(t *testing.T) {
	t.Parallel()
	rows := []iamx.ReportUser{
		row(iamx.RootUser),
		arnRow("alice", "/"),
		arnRow("Bob", "/team-a/"),
		arnRow("carol", "/team-a/ops/"),
		arnRow("dave", "/team-ab/"),
		arnRow("erin", "/team-b/"),
	}
	tests := []struct {
		name          string
		path          string
		only, exclude []string
		want          []string
	}{
		{name: "zero: every IAM user, never root", want: []string{"alice", "Bob", "carol", "dave", "erin"}},
		{name: "path / is every user", path: "/", want: []string{"alice", "Bob", "carol", "dave", "erin"}},
		{name: "path prefix takes sub-paths, not siblings", path: "/team-a/", want: []string{"Bob", "carol"}},
		{name: "deeper path", path: "/team-a/ops/", want: []string{"carol"}},
		{name: "path is case-sensitive, as in IAM", path: "/TEAM-A/", want: []string{}},
		{name: "no such path", path: "/nobody/", want: []string{}},
		{name: "only, any case", only: []string{"ALICE", "bob"}, want: []string{"alice", "Bob"}},
		{name: "only root still excludes root", only: []string{iamx.RootUser, "erin"}, want: []string{"erin"}},
		{name: "empty only list selects nobody", only: []string{}, want: []string{}},
		{name: "exclude, any case", exclude: []string{"BOB", "Erin"}, want: []string{"alice", "carol", "dave"}},
		{name: "exclude wins over only", only: []string{"alice", "bob"}, exclude: []string{"bob"}, want: []string{"alice"}},
		{name: "exclude of an unknown user", exclude: []string{"zoe"}, want: []string{"alice", "Bob", "carol", "dave", "erin"}},
		{name: "path and only together", path: "/team-a/", only: []string{"alice", "carol"}, want: []string{"carol"}},
		{name: "path and exclude together", path: "/team-a/", exclude: []string{"carol"}, want: []string{"Bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSelector(tt.path, tt.only, tt.exclude)
			got := []string{}
			for _, u := range rows {
				if s.Match(u) {
					got = append(got, u.User)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("selected %v, want %v", got, tt.want)
			}
		})
	}
}

func TestZeroSelector(t *testing.T) {
	t.Parallel()
	var s Selector
	if !s.Match(arnRow("alice", "/x/")) {
		t.Error("the zero Selector must pick every IAM user")
	}
	if s.Match(row(iamx.RootUser)) {
		t.Error("the zero Selector must not pick the root user")
	}
}

func TestPathOf(t *testing.T) {
	t.Parallel()
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:user/bob":             "/",
		"arn:aws:iam::123456789012:user/team-a/bob":      "/team-a/",
		"arn:aws:iam::123456789012:user/a/b/c/bob":       "/a/b/c/",
		"arn:aws-cn:iam::123456789012:user/team-b/carol": "/team-b/",
		"arn:aws:iam::123456789012:root":                 "/",
		"arn:aws:iam::123456789012:role/team-a/r":        "/",
		"arn:aws:sts::123456789012:assumed-role/r/s":     "/",
		"":                                "/",
		"not an arn":                      "/",
		"arn:aws:iam::123456789012:user/": "/",
	} {
		if got := PathOf(arn); got != want {
			t.Errorf("PathOf(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestValidatePath(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "/", "/team-a/", "/a/b/c/", "/" + strings.Repeat("a", 510) + "/"} {
		if err := ValidatePath(ok); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"team-a", "/team-a", "team-a/", "/team a/", "/tëam/", "/tab\t/", "/" + strings.Repeat("a", 511) + "/"} {
		err := ValidatePath(bad)
		if !errors.Is(err, iamx.ErrInvalidInput) {
			t.Errorf("ValidatePath(%q) = %v, want an input error", bad, err)
			continue
		}
		var ie *iamx.InputError
		if !errors.As(err, &ie) || ie.Field != "--path" {
			t.Errorf("ValidatePath(%q) = %v, want it to name --path", bad, err)
		}
	}
}

func TestParseUserList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
		// wantErr is a substring of the error; "" means none.
		wantErr string
	}{
		{name: "empty", in: "", want: []string{}},
		{name: "only comments and blanks", in: "# users\n\n   \n\t# more\n", want: []string{}},
		{name: "one per line", in: "alice\nbob\n", want: []string{"alice", "bob"}},
		{name: "no final newline", in: "alice\nbob", want: []string{"alice", "bob"}},
		{name: "comments after names", in: "alice # the admin\nbob#ops\n", want: []string{"alice", "bob"}},
		{name: "surrounding spaces and tabs", in: "  alice  \n\tbob\t\n", want: []string{"alice", "bob"}},
		{name: "CRLF", in: "alice\r\nbob\r\n", want: []string{"alice", "bob"}},
		{name: "byte order mark", in: "\ufeffalice\nbob\n", want: []string{"alice", "bob"}},
		{name: "byte order mark on a comment", in: "\ufeff# list\nalice\n", want: []string{"alice"}},
		{name: "duplicates in any case count once, first spelling kept", in: "Alice\nbob\nALICE\nalice\nBOB\n", want: []string{"Alice", "bob"}},
		{name: "order kept", in: "zed\nalice\nmike\n", want: []string{"zed", "alice", "mike"}},
		{name: "IAM's extra characters", in: "a+b=c,d.e@f-g_h\n", want: []string{"a+b=c,d.e@f-g_h"}},
		{name: "longest name", in: strings.Repeat("a", 128) + "\n", want: []string{strings.Repeat("a", 128)}},
		{name: "name too long", in: "alice\n" + strings.Repeat("a", 129) + "\n", wantErr: "line 2:"},
		{name: "two names on a line", in: "alice bob\n", wantErr: "line 1:"},
		{name: "bad character after blank lines and comments", in: "# x\n\nalice\n\nbo/b\n", wantErr: "line 5:"},
		{name: "line too long for the scanner", in: strings.Repeat("a", 2<<20), wantErr: "read user list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUserList(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseUserList = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("ParseUserList returned users %v with its error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUserList: %v", err)
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseUserList = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseUserListErrorIsInputError(t *testing.T) {
	t.Parallel()
	_, err := ParseUserList(strings.NewReader("alice\nal ice\n"))
	var ie *iamx.InputError
	if !errors.As(err, &ie) || ie.Field != "--users-from" || ie.Value != "al ice" {
		t.Fatalf("err = %#v, want an InputError for --users-from naming the value", err)
	}
	if !errors.Is(err, iamx.ErrInvalidInput) {
		t.Fatalf("err = %v, want errors.Is ErrInvalidInput", err)
	}
}

// TestUserListSelects is --users-from through to selection: the file's
// names, in any case, pick the report's users.
func TestUserListSelects(t *testing.T) {
	t.Parallel()
	users, err := ParseUserList(strings.NewReader("# on call\nBOB\n  carol # ops\nbob\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSelector("", users, []string{"CAROL"})
	var got []string
	for _, u := range []iamx.ReportUser{arnRow("alice", "/"), arnRow("bob", "/"), arnRow("carol", "/")} {
		if s.Match(u) {
			got = append(got, u.User)
		}
	}
	if !reflect.DeepEqual(got, []string{"bob"}) {
		t.Fatalf("selected %v, want [bob]", got)
	}
}

// FuzzParseUserList checks that any input either fails or gives valid,
// trimmed, case-insensitively unique names that each appear in the input,
// and that the result selects exactly those names.
func FuzzParseUserList(f *testing.F) {
	for _, s := range []string{
		"", "alice\n", "alice\r\nBob # x\n\n#y\nALICE\n", "\ufeffa\n", " a b \n", "a#b#c\n", "\xff\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		users, err := ParseUserList(strings.NewReader(in))
		if err != nil {
			if users != nil {
				t.Fatalf("users %v returned with error %v", users, err)
			}
			if !strings.HasPrefix(err.Error(), "line ") && !strings.HasPrefix(err.Error(), "read user list") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		if users == nil {
			t.Fatal("nil list without an error")
		}
		seen := map[string]bool{}
		for _, u := range users {
			if err := iamx.ValidateUserName("x", u); err != nil {
				t.Fatalf("invalid name %q accepted: %v", u, err)
			}
			if strings.TrimSpace(u) != u || strings.Contains(u, "#") || !utf8.ValidString(u) {
				t.Fatalf("name %q not cleaned", u)
			}
			if !strings.Contains(in, u) {
				t.Fatalf("name %q is not in the input", u)
			}
			lc := strings.ToLower(u)
			if seen[lc] {
				t.Fatalf("name %q twice", u)
			}
			seen[lc] = true
		}
		s := NewSelector("", users, nil)
		for _, u := range users {
			if !s.Match(arnRow(strings.ToUpper(u), "/")) {
				t.Fatalf("listed user %q not selected", u)
			}
		}
		if !seen["zz-not-listed"] && s.Match(arnRow("zz-not-listed", "/")) {
			t.Fatal("unlisted user selected")
		}
	})
}
