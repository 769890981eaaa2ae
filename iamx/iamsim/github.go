package iamsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/box"
)

// GitHubAPIPrefix is where the server answers GitHub's REST API, as GitHub
// Enterprise Server does: GITHUB_API_URL is URL() + GitHubAPIPrefix.
//
// The GitHub part serves the Actions secrets API keyrot uses: the public
// key, and the PUT of a secret, of a repository, an environment or an
// organization, the organization secret's visibility and selected
// repositories. It checks the bearer token, and opens every sealed box
// with the scope's private key (golang.org/x/crypto/nacl/box, the one
// import beyond the standard library), so tests can assert the secret
// that arrived. Calls are recorded under the names of GitHub's REST
// operations prefixed "GitHub." (GitHub.PutRepoSecret ...), and FailNext
// takes an HTTP status as the code ("502", "401").
const GitHubAPIPrefix = "/api/v3"

// ghScope is a repository's, an environment's or an organization's
// secrets and the key pair that seals them.
type ghScope struct {
	keyID     string
	pub, priv *[32]byte
	secrets   map[string]*ghSecret // by upper-case name: GitHub names ignore case
	repo      *ghRepo              // nil for an organization
	org       bool
	orgName   string
}

type ghSecret struct {
	name             string
	value            []byte
	visibility       string
	repos            []int64
	created, updated time.Time
}

type ghRepo struct {
	id          int64
	owner, name string
	actions     *ghScope
	envs        map[string]*ghScope // by name
}

// GitHubSecret is what the simulated GitHub holds in a secret: the value
// it decrypted, and for an organization secret its visibility and the
// repositories selected.
type GitHubSecret struct {
	Name       string
	Value      string
	Visibility string
	Repos      []int64
	Created    time.Time
	Updated    time.Time
}

func (s *Server) ghInitLocked() {
	if s.ghRepos == nil {
		s.ghRepos = map[string]*ghRepo{}
		s.ghOrgs = map[string]*ghScope{}
		s.ghTokens = map[string]bool{}
	}
}

func newGHScope() *ghScope {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return &ghScope{keyID: strconv.FormatUint(uint64(pub[0])<<8|uint64(pub[1]), 10) + "568250167242549743",
		pub: pub, priv: priv, secrets: map[string]*ghSecret{}}
}

// GitHubToken makes token a valid GitHub token; readOnly tokens may read
// public keys and secrets' metadata but not write (403), like a
// fine-grained token with Secrets read access.
func (s *Server) GitHubToken(token string, readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ghInitLocked()
	s.ghTokens[token] = !readOnly
}

// GitHubRepo creates repository OWNER/NAME with the given environments and
// returns its ID. An existing one gains the environments.
func (s *Server) GitHubRepo(full string, environments ...string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ghInitLocked()
	owner, name, _ := strings.Cut(full, "/")
	r := s.ghRepos[strings.ToLower(full)]
	if r == nil {
		s.ghRepoCtr++
		r = &ghRepo{id: 100000 + int64(s.ghRepoCtr), owner: owner, name: name, envs: map[string]*ghScope{}}
		r.actions = newGHScope()
		r.actions.repo = r
		s.ghRepos[strings.ToLower(full)] = r
	}
	for _, e := range environments {
		if r.envs[e] == nil {
			r.envs[e] = newGHScope()
			r.envs[e].repo = r
		}
	}
	return r.id
}

// GitHubOrg creates organization org.
func (s *Server) GitHubOrg(org string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ghInitLocked()
	if s.ghOrgs[strings.ToLower(org)] == nil {
		sc := newGHScope()
		sc.org, sc.orgName = true, org
		s.ghOrgs[strings.ToLower(org)] = sc
	}
}

// ghScopeLocked finds a scope: "OWNER/REPO", "OWNER/REPO/ENVIRONMENT" or
// "ORG".
func (s *Server) ghScopeLocked(scope string) *ghScope {
	s.ghInitLocked()
	parts := strings.Split(scope, "/")
	switch len(parts) {
	case 1:
		return s.ghOrgs[strings.ToLower(scope)]
	case 2, 3:
		r := s.ghRepos[strings.ToLower(parts[0]+"/"+parts[1])]
		if r == nil {
			return nil
		}
		if len(parts) == 3 {
			return r.envs[parts[2]]
		}
		return r.actions
	}
	return nil
}

// GitHubSecretOf returns secret name of scope ("OWNER/REPO",
// "OWNER/REPO/ENVIRONMENT" or "ORG") as the server decrypted it.
func (s *Server) GitHubSecretOf(scope, name string) (GitHubSecret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.ghScopeLocked(scope)
	if sc == nil {
		return GitHubSecret{}, false
	}
	sec := sc.secrets[strings.ToUpper(name)]
	if sec == nil {
		return GitHubSecret{}, false
	}
	return GitHubSecret{Name: sec.name, Value: string(sec.value), Visibility: sec.visibility,
		Repos: slices.Clone(sec.repos), Created: sec.created, Updated: sec.updated}, true
}

// SetGitHubSecret puts a secret into scope as if someone had set it; an
// organization secret gets visibility and repos ("" is private).
func (s *Server) SetGitHubSecret(scope, name, value, visibility string, repos ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.ghScopeLocked(scope)
	if sc == nil {
		return fmt.Errorf("no GitHub scope %q", scope)
	}
	if sc.org && visibility == "" {
		visibility = "private"
	}
	if !sc.org {
		visibility = ""
	}
	now := s.clock()
	sc.secrets[strings.ToUpper(name)] = &ghSecret{name: name, value: []byte(value), visibility: visibility,
		repos: slices.Clone(repos), created: now, updated: now}
	return nil
}

// ghError is a GitHub error response.
type ghError struct {
	status int
	msg    string
}

func ghErr(status int, format string, args ...any) *ghError {
	return &ghError{status: status, msg: fmt.Sprintf(format, args...)}
}

// ghRoute names the operation of a GitHub request and finds its scope's
// path parts: kind is repo, env or org.
type ghRoute struct {
	op               string
	owner, repo, env string
	org, secret      string
}

func parseGHRoute(method, path string) (ghRoute, bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, sg := range segs {
		u, err := url.PathUnescape(sg)
		if err != nil {
			return ghRoute{}, false
		}
		segs[i] = u
	}
	var rt ghRoute
	var rest []string
	var kind string
	switch {
	case len(segs) >= 5 && segs[0] == "repos" && segs[3] == "actions" && segs[4] == "secrets":
		rt.owner, rt.repo, rest, kind = segs[1], segs[2], segs[5:], "Repo"
	case len(segs) >= 6 && segs[0] == "repos" && segs[3] == "environments" && segs[5] == "secrets":
		rt.owner, rt.repo, rt.env, rest, kind = segs[1], segs[2], segs[4], segs[6:], "Environment"
	case len(segs) >= 4 && segs[0] == "orgs" && segs[2] == "actions" && segs[3] == "secrets":
		rt.org, rest, kind = segs[1], segs[4:], "Org"
	default:
		return rt, false
	}
	switch {
	case len(rest) == 1 && rest[0] == "public-key" && method == http.MethodGet:
		rt.op = "Get" + kind + "PublicKey"
	case len(rest) == 1 && method == http.MethodPut:
		rt.op, rt.secret = "Put"+kind+"Secret", rest[0]
	case len(rest) == 1 && method == http.MethodGet:
		rt.op, rt.secret = "Get"+kind+"Secret", rest[0]
	case len(rest) == 2 && rest[1] == "repositories" && method == http.MethodGet && kind == "Org":
		rt.op, rt.secret = "ListSelectedReposForOrgSecret", rest[0]
	default:
		return rt, false
	}
	return rt, true
}

// serveGitHub answers a request under GitHubAPIPrefix.
func (s *Server) serveGitHub(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimPrefix(r.URL.Path, GitHubAPIPrefix)
	rt, ok := parseGHRoute(r.Method, path)
	action := "GitHub.Unknown"
	if ok {
		action = "GitHub." + rt.op
	}
	s.mu.Lock()
	s.reqCtr++
	idx := s.callBase + len(s.calls)
	s.calls = append(s.calls, Call{Action: action, Time: s.clock()})
	latency := s.latency
	h := s.holds[action]
	if h != nil && h.next && s.holds[h.action] == h {
		delete(s.holds, h.action)
		s.taken[h.action] = h
	}
	s.mu.Unlock()
	if !s.wait(r.Context(), latency, h) {
		s.finish(idx, 0, "", true)
		drop(w)
	}
	s.mu.Lock()
	f := s.takeFaultLocked(action)
	s.mu.Unlock()
	if f != nil && f.drop && !f.afterward {
		s.finish(idx, 0, "", true)
		drop(w)
	}
	if f != nil && f.code != "" {
		st, err := strconv.Atoi(f.code)
		if err != nil || st < 400 || st > 599 {
			st = http.StatusInternalServerError
		}
		msg := f.message
		if msg == "" {
			msg = http.StatusText(st)
		}
		writeGH(w, st, map[string]string{"message": msg})
		s.finish(idx, st, f.code, false)
		return
	}
	var status int
	var doc any
	var e *ghError
	if !ok {
		e = ghErr(http.StatusNotFound, "Not Found")
	} else {
		s.mu.Lock()
		status, doc, e = s.ghDispatchLocked(r, rt, body)
		s.mu.Unlock()
	}
	if f != nil && f.drop {
		s.finish(idx, 0, "", true)
		drop(w)
	}
	if e != nil {
		writeGH(w, e.status, map[string]string{"message": e.msg,
			"documentation_url": "https://docs.github.com/rest/actions/secrets"})
		s.finish(idx, e.status, strconv.Itoa(e.status), false)
		return
	}
	writeGH(w, status, doc)
	s.finish(idx, status, "", false)
}

func writeGH(w http.ResponseWriter, status int, doc any) {
	w.Header().Set("X-GitHub-Request-Id", "0000:0000:000000:000000:00000000")
	if doc == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(doc)
}

func (s *Server) ghDispatchLocked(r *http.Request, rt ghRoute, body []byte) (int, any, *ghError) {
	s.ghInitLocked()
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(auth, "token ")
	}
	canWrite, known := s.ghTokens[token]
	if !ok || !known {
		return 0, nil, ghErr(http.StatusUnauthorized, "Bad credentials")
	}
	var sc *ghScope
	switch {
	case rt.org != "":
		sc = s.ghOrgs[strings.ToLower(rt.org)]
	default:
		if repo := s.ghRepos[strings.ToLower(rt.owner+"/"+rt.repo)]; repo != nil {
			sc = repo.actions
			if rt.env != "" {
				sc = repo.envs[rt.env]
			}
		}
	}
	if sc == nil {
		return 0, nil, ghErr(http.StatusNotFound, "Not Found")
	}
	switch {
	case strings.HasSuffix(rt.op, "PublicKey"):
		return http.StatusOK, map[string]string{"key_id": sc.keyID, "key": base64.StdEncoding.EncodeToString(sc.pub[:])}, nil
	case rt.op == "ListSelectedReposForOrgSecret":
		sec := sc.secrets[strings.ToUpper(rt.secret)]
		if sec == nil {
			return 0, nil, ghErr(http.StatusNotFound, "Not Found")
		}
		// Paginated as GitHub does: per_page (default 30, at most 100), page from 1.
		q := r.URL.Query()
		per, _ := strconv.Atoi(q.Get("per_page"))
		if per <= 0 {
			per = 30
		}
		per = min(per, 100)
		page, _ := strconv.Atoi(q.Get("page"))
		page = max(page, 1)
		repos := []map[string]any{}
		for i := (page - 1) * per; i >= 0 && i < len(sec.repos) && i < page*per; i++ {
			repos = append(repos, map[string]any{"id": sec.repos[i]})
		}
		return http.StatusOK, map[string]any{"total_count": len(sec.repos), "repositories": repos}, nil
	case strings.HasPrefix(rt.op, "Get"):
		sec := sc.secrets[strings.ToUpper(rt.secret)]
		if sec == nil {
			return 0, nil, ghErr(http.StatusNotFound, "Not Found")
		}
		doc := map[string]any{"name": sec.name, "created_at": sec.created.UTC().Format(time.RFC3339), "updated_at": sec.updated.UTC().Format(time.RFC3339)}
		if sc.org {
			doc["visibility"] = sec.visibility
		}
		return http.StatusOK, doc, nil
	}
	// A Put.
	if !canWrite {
		return 0, nil, ghErr(http.StatusForbidden, "Resource not accessible by personal access token")
	}
	if msg := ghNameProblem(rt.secret); msg != "" {
		return 0, nil, ghErr(http.StatusUnprocessableEntity, "%s", msg)
	}
	var in struct {
		EncryptedValue *string  `json:"encrypted_value"`
		KeyID          *string  `json:"key_id"`
		Visibility     *string  `json:"visibility"`
		SelectedRepos  *[]int64 `json:"selected_repository_ids"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, ghErr(http.StatusBadRequest, "Problems parsing JSON")
	}
	if in.EncryptedValue == nil || in.KeyID == nil {
		return 0, nil, ghErr(http.StatusUnprocessableEntity, "Invalid request.\n\n\"encrypted_value\" and \"key_id\" are required.")
	}
	if *in.KeyID != sc.keyID {
		return 0, nil, ghErr(http.StatusUnprocessableEntity, "Bad request: key_id does not match the current public key")
	}
	sealed, err := base64.StdEncoding.DecodeString(*in.EncryptedValue)
	if err != nil {
		return 0, nil, ghErr(http.StatusUnprocessableEntity, "encrypted_value is not valid base64")
	}
	plain, ok := box.OpenAnonymous(nil, sealed, sc.pub, sc.priv)
	if !ok {
		return 0, nil, ghErr(http.StatusUnprocessableEntity, "Failed to decrypt: encrypted_value is not a sealed box for this public key")
	}
	vis := ""
	var repos []int64
	if sc.org {
		if in.Visibility == nil {
			return 0, nil, ghErr(http.StatusUnprocessableEntity, "Invalid request.\n\n\"visibility\" wasn't supplied.")
		}
		vis = *in.Visibility
		if vis != "all" && vis != "private" && vis != "selected" {
			return 0, nil, ghErr(http.StatusUnprocessableEntity, "Invalid request.\n\nvisibility %q is not all, private or selected.", vis)
		}
		if in.SelectedRepos != nil {
			if vis != "selected" {
				return 0, nil, ghErr(http.StatusUnprocessableEntity, "selected_repository_ids can only be given with visibility selected")
			}
			repos = slices.Clone(*in.SelectedRepos)
		}
		// Leaving selected_repository_ids out clears the selection, as
		// GitHub does.
	}
	now := s.clock()
	key := strings.ToUpper(rt.secret)
	if sec := sc.secrets[key]; sec != nil {
		sec.value, sec.visibility, sec.repos, sec.updated = plain, vis, repos, now
		return http.StatusNoContent, nil, nil
	}
	sc.secrets[key] = &ghSecret{name: rt.secret, value: plain, visibility: vis, repos: repos, created: now, updated: now}
	return http.StatusCreated, map[string]any{}, nil
}

// ghNameProblem is GitHub's rule for secret names, "" when name passes.
func ghNameProblem(name string) string {
	switch {
	case name == "":
		return "Secret names can only contain alphanumeric characters or underscores"
	case name[0] >= '0' && name[0] <= '9':
		return "Secret names must not start with a number"
	case strings.HasPrefix(strings.ToUpper(name), "GITHUB_"):
		return "Secret names must not start with GITHUB_"
	}
	for _, r := range name {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_)"
		}
	}
	return ""
}
