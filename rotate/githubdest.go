package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/github"
)

// KindGitHub is a GitHub Actions secrets destination in the journal.
const KindGitHub = "github-actions"

// Default names of the two GitHub Actions secrets, those
// aws-actions/configure-aws-credentials and the AWS CLI read.
const (
	DefaultGitHubIDName     = "AWS_ACCESS_KEY_ID"
	DefaultGitHubSecretName = "AWS_SECRET_ACCESS_KEY"
)

// GitHubAPI is the part of GitHub's REST API a GitHubSecrets destination
// uses (*github.Client).
type GitHubAPI interface {
	PublicKey(ctx context.Context, s github.Scope) (github.PublicKey, error)
	Put(ctx context.Context, s github.Scope, name string, value []byte, visibility string, repoIDs []int64) (bool, error)
	OrgSecret(ctx context.Context, org, name string) (github.OrgSecret, bool, error)
	SelectedRepos(ctx context.Context, org, name string) ([]int64, error)
}

var _ GitHubAPI = (*github.Client)(nil)

// GitHubSecrets writes the key into two GitHub Actions secrets (the key ID
// and the secret) of a repository (Repo, OWNER/NAME), one of its
// environments, or an organization (Org), each sealed with the scope's
// public key. GitHub never returns a secret's value, so the delivery can
// be neither read back nor undone: it goes last, and Run never deletes or
// deactivates a key these secrets may hold (see HeldError).
type GitHubSecrets struct {
	API         GitHubAPI
	Repo        string // OWNER/NAME; or Org
	Environment string // with Repo: an environment's secrets
	Org         string
	// Visibility of organization secrets: all, private or selected; ""
	// keeps an existing secret's (and its selected repositories) and makes
	// a new one private.
	Visibility string
	// IDName and SecretName name the secrets; "" is AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY.
	IDName, SecretName string
}

func (g GitHubSecrets) names() (id, secret string) {
	id, secret = g.IDName, g.SecretName
	if id == "" {
		id = DefaultGitHubIDName
	}
	if secret == "" {
		secret = DefaultGitHubSecretName
	}
	return id, secret
}

func (g GitHubSecrets) scope() github.Scope {
	if g.Org != "" {
		return github.Scope{Org: g.Org}
	}
	owner, repo, _ := strings.Cut(g.Repo, "/")
	return github.Scope{Owner: owner, Repo: repo, Environment: g.Environment}
}

// Describe names the secrets and their scope.
func (g GitHubSecrets) Describe() string {
	id, secret := g.names()
	return fmt.Sprintf("GitHub Actions secrets %s and %s of %s", id, secret, g.scope())
}

// ForUser fills {user} and {account} in every name. In the secrets'
// names, {user} is the user name with every character GitHub does not
// allow there (IAM allows +=,.@-) replaced by '_': ci-bot's secret is
// AWS_ACCESS_KEY_ID_ci_bot (GitHub shows it as AWS_ACCESS_KEY_ID_CI_BOT).
func (g GitHubSecrets) ForUser(user, account string) Destination {
	for _, p := range []*string{&g.Repo, &g.Environment, &g.Org} {
		*p = ExpandName(*p, user, account)
	}
	safe := SecretNameUser(user)
	for _, p := range []*string{&g.IDName, &g.SecretName} {
		*p = ExpandName(*p, safe, account)
	}
	return g
}

// SecretNameUser is user as {user} fills a GitHub secret name.
func SecretNameUser(user string) string {
	b := []byte(user)
	for i, c := range b {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Check refuses, before any key exists, names GitHub would refuse.
func (g GitHubSecrets) Check() error {
	switch {
	case (g.Repo == "") == (g.Org == ""):
		return &iamx.InputError{Field: "--github-secret", Value: g.Repo, Rule: "give either --github-secret OWNER/REPO or --github-org ORG"}
	case g.Environment != "" && g.Repo == "":
		return &iamx.InputError{Field: "--github-environment", Value: g.Environment, Rule: "an environment belongs to a repository: add --github-secret OWNER/REPO"}
	case g.Visibility != "" && g.Org == "":
		return &iamx.InputError{Field: "--github-visibility", Value: g.Visibility, Rule: "visibility is for organization secrets: add --github-org ORG"}
	case g.Visibility != "" && !slices.Contains(github.Visibilities, g.Visibility):
		return &iamx.InputError{Field: "--github-visibility", Value: g.Visibility, Rule: "use all, private or selected"}
	}
	if g.Repo != "" {
		owner, repo, ok := strings.Cut(g.Repo, "/")
		if !ok || !validGitHubName(owner, false) || !validGitHubName(repo, true) {
			return &iamx.InputError{Field: "--github-secret", Value: g.Repo, Rule: "use OWNER/REPO: letters, digits and hyphens for the owner; letters, digits, '-', '_' and '.' for the repository"}
		}
	}
	if g.Org != "" && !validGitHubName(g.Org, false) {
		return &iamx.InputError{Field: "--github-org", Value: g.Org, Rule: "letters, digits and hyphens"}
	}
	if g.Environment != "" && (len(g.Environment) > 255 || strings.ContainsAny(g.Environment, "/\x00\r\n")) {
		return &iamx.InputError{Field: "--github-environment", Value: g.Environment, Rule: "up to 255 characters, without '/' or line breaks"}
	}
	id, secret := g.names()
	for _, n := range []string{id, secret} {
		if err := github.ValidSecretName(n); err != nil {
			return &iamx.InputError{Field: "--github-secret-names", Value: n, Rule: err.Error()}
		}
	}
	if strings.EqualFold(id, secret) {
		return &iamx.InputError{Field: "--github-secret-names", Value: id + "," + secret, Rule: "the key ID and the secret need two different names (GitHub names ignore case)"}
	}
	return nil
}

// validGitHubName checks an owner, organization or repository name.
func validGitHubName(s string, repo bool) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || repo && (r == '_' || r == '.')
		if !ok {
			return false
		}
	}
	return true
}

// Precheck reads the scope's public key before any key exists: a token
// GitHub refuses (exit 6) or a repository, environment or organization it
// cannot find (exit 3) fails the rotation with nothing changed.
func (g GitHubSecrets) Precheck(ctx context.Context) error {
	_, err := g.API.PublicKey(ctx, g.scope())
	return err
}

// Deliver writes both secrets. It cannot be undone.
func (g GitHubSecrets) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	_, err := g.deliver(ctx, k)
	return nil, err
}

// deliver writes the key ID's secret, then the secret's. mayHold reports
// whether GitHub may now hold something of the new key: a write
// succeeded, or failed without GitHub's refusal (no answer, a 5xx), so
// it may have landed.
func (g GitHubSecrets) deliver(ctx context.Context, k iamx.NewKey) (mayHold bool, err error) {
	s := g.scope()
	id, secret := g.names()
	for i, w := range []struct {
		name  string
		value string
	}{{id, k.ID}, {secret, k.Secret.Reveal()}} {
		vis, repos, err := g.visibility(ctx, w.name)
		if err != nil {
			return i > 0, err
		}
		if _, err := g.API.Put(ctx, s, w.name, []byte(w.value), vis, repos); err != nil {
			return i > 0 || !refusedByGitHub(err), err
		}
	}
	return true, nil
}

// visibility is what an organization secret's PUT sends: the visibility
// asked for, or the one the secret has (private for a new one), and for
// selected the repositories it is given to now, which a PUT without them
// would take away.
func (g GitHubSecrets) visibility(ctx context.Context, name string) (string, []int64, error) {
	if g.Org == "" {
		return "", nil, nil
	}
	cur, found, err := g.API.OrgSecret(ctx, g.Org, name)
	if err != nil {
		return "", nil, err
	}
	vis := g.Visibility
	if vis == "" {
		vis = "private"
		if found {
			vis = cur.Visibility
		}
	}
	if vis != "selected" || !found || cur.Visibility != "selected" {
		return vis, nil, nil
	}
	repos, err := g.API.SelectedRepos(ctx, g.Org, name)
	return vis, repos, err
}

// refusedByGitHub reports whether GitHub answered with an error (4xx),
// which means it wrote nothing.
func refusedByGitHub(err error) bool {
	var e *iamx.Error
	return errors.As(err, &e) && e.HTTPStatus >= 400 && e.HTTPStatus < 500
}

// githubRecord is what the journal keeps of a GitHub destination.
type githubRecord struct {
	Repo        string `json:"repo,omitempty"`
	Environment string `json:"environment,omitempty"`
	Org         string `json:"org,omitempty"`
	Visibility  string `json:"visibility,omitempty"`
	IDName      string `json:"id_name,omitempty"`
	SecretName  string `json:"secret_name,omitempty"`
}

func (g GitHubSecrets) record() *githubRecord {
	return &githubRecord{Repo: g.Repo, Environment: g.Environment, Org: g.Org, Visibility: g.Visibility, IDName: g.IDName, SecretName: g.SecretName}
}

func githubFromRecord(api GitHubAPI, r *githubRecord) GitHubSecrets {
	return GitHubSecrets{API: api, Repo: r.Repo, Environment: r.Environment, Org: r.Org, Visibility: r.Visibility, IDName: r.IDName, SecretName: r.SecretName}
}
