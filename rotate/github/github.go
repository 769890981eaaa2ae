// Package github is the part of GitHub's REST API a GitHub Actions secrets
// destination uses: the public key of a repository, an environment or an
// organization, and the PUT that creates or updates a secret sealed with
// it (a libsodium sealed box, as GitHub requires). It speaks to
// api.github.com or to GitHub Enterprise Server (GITHUB_API_URL), with
// the token in an Authorization header that it never logs or prints.
//
// Errors carry iamx's kinds (a bad token is iamx.ErrAccessDenied, a
// missing repository iamx.ErrNotFound, a 5xx iamx.ErrServiceFailure) so
// that they map to keyrot's exit codes like AWS's.
package github

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"golang.org/x/crypto/nacl/box"
)

// DefaultAPIURL is GitHub.com's REST API.
const DefaultAPIURL = "https://api.github.com"

// apiVersion is the REST API version keyrot was written against.
const apiVersion = "2022-11-28"

// Timeouts: one request never waits longer than requestTimeout; transient
// failures (no response, 5xx, secondary rate limits) are retried up to
// attempts times in all.
const (
	requestTimeout = 30 * time.Second
	attempts       = 3
)

// Scope is where secrets live: a repository (Owner/Repo), one of its
// environments, or an organization.
type Scope struct {
	Owner, Repo string
	Environment string
	Org         string
}

// String names the scope as keyrot's messages do.
func (s Scope) String() string {
	switch {
	case s.Org != "":
		return "organization " + s.Org
	case s.Environment != "":
		return fmt.Sprintf("environment %s of %s/%s", s.Environment, s.Owner, s.Repo)
	}
	return s.Owner + "/" + s.Repo
}

// path is the scope's REST path, without the API base.
func (s Scope) path() string {
	e := url.PathEscape
	switch {
	case s.Org != "":
		return "/orgs/" + e(s.Org) + "/actions/secrets"
	case s.Environment != "":
		return "/repos/" + e(s.Owner) + "/" + e(s.Repo) + "/environments/" + e(s.Environment) + "/secrets"
	}
	return "/repos/" + e(s.Owner) + "/" + e(s.Repo) + "/actions/secrets"
}

// PublicKey is the key GitHub seals a scope's secrets with.
type PublicKey struct {
	ID  string
	Key [32]byte
}

// OrgSecret is what GitHub says about an organization secret: never its
// value, which GitHub does not return.
type OrgSecret struct {
	Visibility string // all, private or selected
}

// Visibilities an organization secret may have.
var Visibilities = []string{"all", "private", "selected"}

// Client calls GitHub's REST API. Its methods are safe for concurrent use;
// a scope's public key is fetched once per Client.
type Client struct {
	// BaseURL is the API root: DefaultAPIURL, or https://HOST/api/v3
	// for GitHub Enterprise Server.
	BaseURL string
	token   string
	HTTP    *http.Client
	// Sleep waits between retries; nil waits for real.
	Sleep func(context.Context, time.Duration) error
	// Debug, when set, gets one line per request (method, path, status,
	// time), never the token or a body.
	Debug func(format string, args ...any)

	// fetch serialises the reads of public keys, so that concurrent
	// rotations of a fleet run read a scope's key once.
	fetch sync.Mutex
	keys  map[string]PublicKey
}

// New returns a client for base ("" is DefaultAPIURL) with token.
func New(base, token string, hc *http.Client) *Client {
	if base == "" {
		base = DefaultAPIURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}
	return &Client{BaseURL: strings.TrimRight(base, "/"), token: token, HTTP: hc, keys: map[string]PublicKey{}}
}

// TokenFromEnv is the token gh uses: GH_TOKEN, else GITHUB_TOKEN.
func TokenFromEnv(getenv func(string) string) string {
	if t := getenv("GH_TOKEN"); t != "" {
		return t
	}
	return getenv("GITHUB_TOKEN")
}

// ErrNoToken: neither GH_TOKEN nor GITHUB_TOKEN is set. It matches
// iamx.ErrAccessDenied (exit 6), like missing AWS credentials.
var ErrNoToken error = noToken{}

type noToken struct{}

func (noToken) Error() string {
	return "no GitHub token: set GH_TOKEN or GITHUB_TOKEN to a token that may write Actions secrets"
}

func (noToken) Is(target error) bool { return target == iamx.ErrAccessDenied }

// PublicKey returns the scope's public key, from GitHub the first time.
// It is the call that proves, before any key exists, that the token works
// and the repository (environment, organization) exists.
func (c *Client) PublicKey(ctx context.Context, s Scope) (PublicKey, error) {
	p := s.path() + "/public-key"
	c.fetch.Lock()
	defer c.fetch.Unlock()
	k, ok := c.keys[p]
	if ok {
		return k, nil
	}
	var doc struct {
		KeyID string `json:"key_id"`
		Key   string `json:"key"`
	}
	if err := c.do(ctx, http.MethodGet, p, nil, &doc); err != nil {
		return PublicKey{}, fmt.Errorf("read the Actions public key of %s: %w", s, err)
	}
	raw, err := base64.StdEncoding.DecodeString(doc.Key)
	if err != nil || len(raw) != 32 || doc.KeyID == "" {
		return PublicKey{}, fmt.Errorf("read the Actions public key of %s: GitHub sent a key that is not 32 bytes of base64", s)
	}
	k.ID = doc.KeyID
	copy(k.Key[:], raw)
	c.keys[p] = k
	return k, nil
}

// Seal encrypts value for key as GitHub requires: a libsodium sealed box
// (crypto_box_seal), base64.
func Seal(key PublicKey, value []byte) (string, error) {
	out, err := box.SealAnonymous(nil, value, &key.Key, rand.Reader)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// Put creates or updates secret name in s with value, sealed with the
// scope's public key. For an organization, visibility is all, private or
// selected, with the repositories' IDs for selected. GitHub answers 201 for
// a new secret and 204 for an update; created reports which.
func (c *Client) Put(ctx context.Context, s Scope, name string, value []byte, visibility string, repoIDs []int64) (created bool, err error) {
	k, err := c.PublicKey(ctx, s)
	if err != nil {
		return false, err
	}
	sealed, err := Seal(k, value)
	if err != nil {
		return false, fmt.Errorf("seal %s for %s: %w", name, s, err)
	}
	body := map[string]any{"encrypted_value": sealed, "key_id": k.ID}
	if s.Org != "" {
		body["visibility"] = visibility
		if visibility == "selected" {
			if repoIDs == nil {
				repoIDs = []int64{}
			}
			body["selected_repository_ids"] = repoIDs
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return false, err
	}
	var status int
	if err := c.doStatus(ctx, http.MethodPut, s.path()+"/"+url.PathEscape(name), b, nil, &status); err != nil {
		return false, fmt.Errorf("write Actions secret %s of %s: %w", name, s, err)
	}
	return status == http.StatusCreated, nil
}

// OrgSecret reads an organization secret's visibility; found is false
// when the secret does not exist.
func (c *Client) OrgSecret(ctx context.Context, org, name string) (OrgSecret, bool, error) {
	s := Scope{Org: org}
	var doc struct {
		Visibility string `json:"visibility"`
	}
	err := c.do(ctx, http.MethodGet, s.path()+"/"+url.PathEscape(name), nil, &doc)
	if errors.Is(err, iamx.ErrNotFound) {
		return OrgSecret{}, false, nil
	}
	if err != nil {
		return OrgSecret{}, false, fmt.Errorf("read Actions secret %s of %s: %w", name, s, err)
	}
	return OrgSecret{Visibility: doc.Visibility}, true, nil
}

// SelectedRepos lists the IDs of the repositories an organization secret
// with visibility selected is given to (every page). A PUT that leaves
// them out clears them, so an update sends them back.
func (c *Client) SelectedRepos(ctx context.Context, org, name string) ([]int64, error) {
	s := Scope{Org: org}
	ids := []int64{}
	for page := 1; ; page++ {
		var doc struct {
			TotalCount   int `json:"total_count"`
			Repositories []struct {
				ID int64 `json:"id"`
			} `json:"repositories"`
		}
		p := fmt.Sprintf("%s/%s/repositories?per_page=100&page=%d", s.path(), url.PathEscape(name), page)
		if err := c.do(ctx, http.MethodGet, p, nil, &doc); err != nil {
			return nil, fmt.Errorf("list the repositories of Actions secret %s of %s: %w", name, s, err)
		}
		for _, r := range doc.Repositories {
			ids = append(ids, r.ID)
		}
		if len(doc.Repositories) < 100 || len(ids) >= doc.TotalCount || page >= 1000 {
			return ids, nil
		}
	}
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var status int
	return c.doStatus(ctx, method, path, body, out, &status)
}

// doStatus sends one request, retrying what may succeed on a second try,
// and decodes a 2xx body into out.
func (c *Client) doStatus(ctx context.Context, method, path string, body []byte, out any, status *int) error {
	if c.token == "" {
		return ErrNoToken
	}
	var err error
	for try := 1; ; try++ {
		var retry bool
		retry, err = c.once(ctx, method, path, body, out, status)
		if !retry || try >= attempts || ctx.Err() != nil {
			return err
		}
		sleep := c.Sleep
		if sleep == nil {
			sleep = sleepCtx
		}
		if serr := sleep(ctx, time.Duration(try)*500*time.Millisecond); serr != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) once(ctx context.Context, method, path string, body []byte, out any, status *int) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("User-Agent", "keyrot")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.debug("GitHub %s %s: %v", method, path, err)
		// No answer: the request may or may not have landed.
		return true, &iamx.Error{Kind: iamx.ErrServiceFailure, Err: fmt.Errorf("no response from %s: %w", c.BaseURL, scrub(err, c.token))}
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	*status = resp.StatusCode
	c.debug("GitHub %s %s: %d (%s)", method, path, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil {
			return true, &iamx.Error{Kind: iamx.ErrServiceFailure, Err: fmt.Errorf("response cut short: %w", rerr)}
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return false, fmt.Errorf("GitHub sent a body that is not JSON: %w", err)
			}
		}
		return false, nil
	}
	e := apiError(resp, data)
	return errors.Is(e, iamx.ErrServiceFailure) || errors.Is(e, iamx.ErrThrottled), e
}

func (c *Client) debug(format string, args ...any) {
	if c.Debug != nil {
		c.Debug(format, args...)
	}
}

// apiError maps an error response to iamx's kinds.
func apiError(resp *http.Response, data []byte) error {
	var doc struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(data, &doc)
	e := &iamx.Error{HTTPStatus: resp.StatusCode, Code: strconv.Itoa(resp.StatusCode), Message: doc.Message,
		RequestID: resp.Header.Get("X-GitHub-Request-Id")}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	limited := resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != ""
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusForbidden && limited:
		e.Kind = iamx.ErrThrottled
	case resp.StatusCode == http.StatusUnauthorized:
		e.Kind = iamx.ErrAccessDenied
		e.Message += " (the GitHub token in GH_TOKEN or GITHUB_TOKEN was refused)"
	case resp.StatusCode == http.StatusForbidden:
		e.Kind = iamx.ErrAccessDenied
		e.Message += " (the token may not write Actions secrets here: it needs the repository's Secrets permission, or the organization's)"
	case resp.StatusCode == http.StatusNotFound:
		e.Kind = iamx.ErrNotFound
		e.Message += " (no such repository, environment or organization, or the token cannot see it)"
	case resp.StatusCode == http.StatusUnprocessableEntity, resp.StatusCode == http.StatusBadRequest:
		e.Kind = iamx.ErrInvalidInput
	case resp.StatusCode >= 500:
		e.Kind = iamx.ErrServiceFailure
	}
	return e
}

// scrub keeps the token out of a transport error's text.
func scrub(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "<token>"))
}

// ValidSecretName reports whether GitHub accepts name for a secret:
// letters, digits and underscores, not starting with a digit or GITHUB_.
func ValidSecretName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case name[0] >= '0' && name[0] <= '9':
		return errors.New("must not start with a digit")
	case strings.HasPrefix(strings.ToUpper(name), "GITHUB_"):
		return errors.New("must not start with GITHUB_, which GitHub reserves")
	}
	for _, r := range name {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("%q is not allowed: use letters, digits and underscores", r)
		}
	}
	return nil
}
