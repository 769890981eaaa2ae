package iamsim_test

import (
	"errors"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

var (
	keyIDPattern  = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	sessPattern   = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestUsers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv, c := admin(t, iamsim.Now(clk.Now), iamsim.AccountID("210987654321"))
	cx := ctx(t)

	out, err := c.CreateUser(cx, &iam.CreateUserInput{UserName: aws.String("Bob"), Path: aws.String("/team-a/")})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.UserName) != "Bob" || aws.ToString(u.Path) != "/team-a/" ||
		aws.ToString(u.Arn) != "arn:aws:iam::210987654321:user/team-a/Bob" ||
		!aws.ToTime(u.CreateDate).Equal(clk.Now()) || len(aws.ToString(u.UserId)) != 21 {
		t.Errorf("CreateUser = %+v", u)
	}

	_, err = c.CreateUser(cx, &iam.CreateUserInput{UserName: aws.String("bob")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("duplicate CreateUser: %v", err)
	}
	apiErr(t, err, "EntityAlreadyExists", 409)

	got, err := c.GetUser(cx, &iam.GetUserInput{UserName: aws.String("BOB")})
	if err != nil || aws.ToString(got.User.UserName) != "Bob" {
		t.Errorf("GetUser(BOB) = %v, %v; IAM names ignore case", got, err)
	}
	self, err := c.GetUser(cx, &iam.GetUserInput{})
	if err != nil || aws.ToString(self.User.UserName) != "admin" {
		t.Errorf("GetUser() = %v, %v; want the signer", self, err)
	}

	_, err = c.GetUser(cx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The user with name nobody cannot be found." {
		t.Errorf("GetUser(nobody) = %v", err)
	}
	apiErr(t, err, "NoSuchEntity", 404)

	for _, n := range []string{"carol", "dave", "erin"} {
		if err := srv.AddUser(n, "/team-b/"); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := srv.Users(), []string{"admin", "Bob", "carol", "dave", "erin"}; !slices.Equal(got, want) {
		t.Errorf("Users() = %v, want %v", got, want)
	}

	var names []string
	pages := 0
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(cx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if want := []string{"admin", "Bob", "carol", "dave", "erin"}; !slices.Equal(names, want) || pages != 3 {
		t.Errorf("ListUsers pages = %d, names %v, want 3 pages of %v", pages, names, want)
	}

	lu, err := c.ListUsers(cx, &iam.ListUsersInput{PathPrefix: aws.String("/team-b/"), MaxItems: aws.Int32(2)})
	if err != nil || len(lu.Users) != 2 || !lu.IsTruncated || lu.Marker == nil {
		t.Fatalf("ListUsers(/team-b/) = %+v, %v", lu, err)
	}
	lu, err = c.ListUsers(cx, &iam.ListUsersInput{PathPrefix: aws.String("/team-b/"), Marker: lu.Marker})
	if err != nil || len(lu.Users) != 1 || aws.ToString(lu.Users[0].UserName) != "erin" || lu.IsTruncated {
		t.Errorf("ListUsers(/team-b/, marker) = %+v, %v", lu, err)
	}

	_, err = c.ListUsers(cx, &iam.ListUsersInput{Marker: aws.String("garbage")})
	apiErr(t, err, "ValidationError", 400)

	if _, err := c.DeleteUser(cx, &iam.DeleteUserInput{UserName: aws.String("Bob")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.AddKey("carol", iamsim.KeySeed{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteUser(cx, &iam.DeleteUserInput{UserName: aws.String("carol")})
	var conflict *types.DeleteConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("DeleteUser with keys = %v", err)
	}
}

func TestAccessKeys(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv, c := admin(t, iamsim.Now(clk.Now), iamsim.User("alice"), iamsim.User("bob", iamsim.KeySeed{}))
	cx := ctx(t)

	created, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	ak := created.AccessKey
	if !keyIDPattern.MatchString(aws.ToString(ak.AccessKeyId)) || !secretPattern.MatchString(aws.ToString(ak.SecretAccessKey)) ||
		ak.Status != types.StatusTypeActive || aws.ToString(ak.UserName) != "alice" || !aws.ToTime(ak.CreateDate).Equal(clk.Now()) {
		t.Errorf("CreateAccessKey = %+v", ak)
	}
	keys := srv.Keys("alice")
	if len(keys) != 1 || keys[0].ID != *ak.AccessKeyId || keys[0].Secret != *ak.SecretAccessKey || keys[0].User != "alice" {
		t.Errorf("Keys(alice) = %+v", keys)
	}

	clk.Advance(time.Minute)
	second, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	var limit *types.LimitExceededException
	if !errors.As(err, &limit) || limit.ErrorMessage() != "Cannot exceed quota for AccessKeysPerUser: 2" {
		t.Errorf("third key: %v", err)
	}
	apiErr(t, err, "LimitExceeded", 409)

	// Paging, oldest first.
	var ids []string
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(cx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.AccessKeyMetadata {
			ids = append(ids, aws.ToString(m.AccessKeyId))
		}
	}
	if want := []string{*ak.AccessKeyId, *second.AccessKey.AccessKeyId}; !slices.Equal(ids, want) {
		t.Errorf("ListAccessKeys ids = %v, want %v", ids, want)
	}

	if _, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: ak.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Keys("alice")[0].Status; got != "Inactive" {
		t.Errorf("status after update = %s", got)
	}

	// Another user's key is "not found", as IAM says.
	bobKey := srv.Keys("bob")[0].ID
	_, err = c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(bobKey), Status: types.StatusTypeInactive})
	var nse *types.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The Access Key with id "+bobKey+" cannot be found." {
		t.Errorf("update other's key: %v", err)
	}
	_, err = c.DeleteAccessKey(cx, &iam.DeleteAccessKeyInput{UserName: aws.String("nobody"), AccessKeyId: aws.String(bobKey)})
	apiErr(t, err, "NoSuchEntity", 404)

	if _, err := c.DeleteAccessKey(cx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: ak.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	if keys := srv.Keys("alice"); len(keys) != 1 || keys[0].ID != *second.AccessKey.AccessKeyId {
		t.Errorf("Keys after delete = %+v", keys)
	}

	// Without UserName the signer's own keys are meant.
	mine, err := c.ListAccessKeys(cx, &iam.ListAccessKeysInput{})
	if err != nil || len(mine.AccessKeyMetadata) != 1 || aws.ToString(mine.AccessKeyMetadata[0].UserName) != "admin" {
		t.Errorf("ListAccessKeys() = %+v, %v", mine, err)
	}
	own, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{})
	if err != nil || aws.ToString(own.AccessKey.UserName) != "admin" {
		t.Fatalf("CreateAccessKey() = %+v, %v", own, err)
	}
	if _, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{AccessKeyId: own.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Errorf("UpdateAccessKey() = %v", err)
	}
}

func TestLastUsed(t *testing.T) {
	t.Parallel()
	clk := newClock()
	used := clk.Now().Add(-48 * time.Hour)
	srv, c := admin(t, iamsim.Now(clk.Now),
		iamsim.User("alice", iamsim.KeySeed{}),
		iamsim.User("bob", iamsim.KeySeed{LastUsed: used, LastUsedService: "s3", LastUsedRegion: "eu-west-1"}))
	cx := ctx(t)
	alice := srv.Keys("alice")[0]
	bob := srv.Keys("bob")[0]

	never, err := c.GetAccessKeyLastUsed(cx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(alice.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if lu := never.AccessKeyLastUsed; aws.ToString(never.UserName) != "alice" || lu.LastUsedDate != nil ||
		aws.ToString(lu.ServiceName) != "N/A" || aws.ToString(lu.Region) != "N/A" {
		t.Errorf("never used = %+v %+v", never, lu)
	}
	seeded, err := c.GetAccessKeyLastUsed(cx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(bob.ID)})
	if lu := seeded.AccessKeyLastUsed; err != nil || !aws.ToTime(lu.LastUsedDate).Equal(used) ||
		aws.ToString(lu.ServiceName) != "s3" || aws.ToString(lu.Region) != "eu-west-1" {
		t.Errorf("seeded = %+v, %v", lu, err)
	}

	clk.Advance(time.Hour)
	s := sts.NewFromConfig(config(srv, alice.ID, alice.Secret, clientOpts{region: "eu-central-1"}))
	if _, err := s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetAccessKeyLastUsed(cx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(alice.ID)})
	if lu := out.AccessKeyLastUsed; err != nil || !aws.ToTime(lu.LastUsedDate).Equal(clk.Now()) ||
		aws.ToString(lu.ServiceName) != "sts" || aws.ToString(lu.Region) != "eu-central-1" {
		t.Errorf("after use = %+v, %v", lu, err)
	}
	if k := srv.Keys("admin")[0]; k.LastUsedService != "iam" || k.LastUsedRegion != "us-east-1" || !k.LastUsed.Equal(clk.Now()) {
		t.Errorf("admin key last used = %+v", k)
	}

	_, err = c.GetAccessKeyLastUsed(cx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAIOSFODNN7EXAMPLE")})
	apiErr(t, err, "NoSuchEntity", 404)
}

func TestCallerIdentityAndRoot(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.Partition("aws-cn"), iamsim.AccountID("111122223333"),
		iamsim.UserWithPath("alice", "/ops/", iamsim.KeySeed{}),
		iamsim.Root(iamsim.KeySeed{ID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}))
	t.Cleanup(srv.Close)
	cx := ctx(t)
	alice := srv.Keys("alice")[0]

	id, err := stsClient(srv, alice.ID, alice.Secret).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws-cn:iam::111122223333:user/ops/alice" || aws.ToString(id.Account) != "111122223333" ||
		len(aws.ToString(id.UserId)) != 21 {
		t.Errorf("GetCallerIdentity = %+v", id)
	}

	root := srv.Keys(iamsim.RootUser)[0]
	rid, err := stsClient(srv, root.ID, root.Secret).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(rid.Arn) != "arn:aws-cn:iam::111122223333:root" || aws.ToString(rid.UserId) != "111122223333" {
		t.Errorf("root identity = %+v, %v", rid, err)
	}
	rc := iamClient(srv, root.ID, root.Secret)
	lk, err := rc.ListAccessKeys(cx, &iam.ListAccessKeysInput{})
	if err != nil || len(lk.AccessKeyMetadata) != 1 || aws.ToString(lk.AccessKeyMetadata[0].AccessKeyId) != root.ID {
		t.Errorf("root ListAccessKeys = %+v, %v", lk, err)
	}
	nk, err := rc.CreateAccessKey(cx, &iam.CreateAccessKeyInput{})
	if err != nil || nk.AccessKey.UserName != nil {
		t.Fatalf("root CreateAccessKey = %+v, %v", nk, err)
	}
	if len(srv.Keys(iamsim.RootUser)) != 2 {
		t.Errorf("root keys = %+v", srv.Keys(iamsim.RootUser))
	}
	gu, err := rc.GetUser(cx, &iam.GetUserInput{})
	if err != nil || aws.ToString(gu.User.Arn) != "arn:aws-cn:iam::111122223333:root" {
		t.Errorf("root GetUser = %+v, %v", gu, err)
	}
	// The root user can act on IAM users.
	if _, err := rc.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(alice.ID), Status: types.StatusTypeInactive}); err != nil {
		t.Error(err)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}, iamsim.KeySeed{Status: "Inactive"}))
	cx := ctx(t)
	keys := srv.Keys("alice")
	active, inactive := keys[0], keys[1]
	if active.Status != "Active" {
		active, inactive = inactive, active
	}

	_, err := stsClient(srv, inactive.ID, inactive.Secret).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)

	_, err = stsClient(srv, active.ID, inactive.Secret).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "SignatureDoesNotMatch", 403)

	_, err = iamClient(srv, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").ListUsers(cx, &iam.ListUsersInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)

	// A deleted key stops working at once.
	if _, err := c.DeleteAccessKey(cx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(active.ID)}); err != nil {
		t.Fatal(err)
	}
	_, err = iamClient(srv, active.ID, active.Secret).ListAccessKeys(cx, &iam.ListAccessKeysInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)

	// Reactivating works both ways.
	if _, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(inactive.ID), Status: types.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := stsClient(srv, inactive.ID, inactive.Secret).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("reactivated key: %v", err)
	}

	// An empty region is refused rather than silently accepted.
	noRegion := iam.NewFromConfig(config(srv, inactive.ID, inactive.Secret, clientOpts{}), func(o *iam.Options) { o.Region = "" })
	if _, err := noRegion.ListUsers(cx, &iam.ListUsersInput{}); err == nil {
		t.Error("request signed for an empty region succeeded")
	}

	calls := srv.Calls()
	if c := calls[1]; c.Action != "GetCallerIdentity" || c.Signer != active.ID || c.HTTPStatus != 403 || c.ErrorCode != "SignatureDoesNotMatch" {
		t.Errorf("call 1 = %+v", c)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}))
	cx := ctx(t)
	id := srv.Keys("alice")[0].ID
	tests := []struct {
		name string
		in   iam.UpdateAccessKeyInput
		msg  string
	}{
		{"lower-case status", iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: "active"},
			"1 validation error detected: Value 'active' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"},
		{"short key", iam.UpdateAccessKeyInput{AccessKeyId: aws.String("AKIA123"), Status: "Active"},
			"1 validation error detected: Value 'AKIA123' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16"},
		{"key pattern", iam.UpdateAccessKeyInput{AccessKeyId: aws.String("AKIA-123456789012"), Status: "Active"},
			`1 validation error detected: Value 'AKIA-123456789012' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w]+`},
		{"user pattern", iam.UpdateAccessKeyInput{UserName: aws.String("a b"), AccessKeyId: aws.String(id), Status: "Active"},
			`1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
	}
	for _, tt := range tests {
		_, err := c.UpdateAccessKey(cx, &tt.in)
		apiErr(t, err, "ValidationError", 400)
		var ae interface{ ErrorMessage() string }
		if errors.As(err, &ae) && ae.ErrorMessage() != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.name, ae.ErrorMessage(), tt.msg)
		}
	}
	_, err := c.ListUsers(cx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	apiErr(t, err, "ValidationError", 400)
	if got := srv.Keys("alice")[0].Status; got != "Active" {
		t.Errorf("a rejected call changed the key: %s", got)
	}
}
