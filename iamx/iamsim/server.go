// Package iamsim is a local IAM and STS endpoint for tests, benchmarks and
// demos. It listens on 127.0.0.1, speaks the AWS Query protocol that the
// real SDK uses (form-encoded POST, XML responses, <ErrorResponse> bodies
// with AWS's error codes and HTTP statuses) and verifies Signature Version 4
// with the secrets it issued, so an Inactive or deleted key is really
// refused. It records every call and can inject the failures that make IAM
// hard to automate: eventual consistency of new keys, throttling, service
// failures, dropped connections and slow or held calls.
//
// A typical test:
//
//	srv := iamsim.NewServer(iamsim.User("alice", iamsim.KeySeed{}))
//	t.Cleanup(srv.Close)
//	// point the SDK at srv.URL() with BaseEndpoint or AWS_ENDPOINT_URL
//	srv.FailNext("UpdateAccessKey", "ServiceFailure")
//
// It also serves inline user policies (honouring their Deny on session
// tokens by aws:TokenIssueTime), STS GetAccessKeyInfo, CloudTrail
// LookupEvents from the calls it served, Account ListRegions, Secrets
// Manager, SSM Parameter Store, and GitHub's Actions secrets API under
// GitHubAPIPrefix.
//
// The package imports only the standard library (and nacl/box, to open
// the sealed boxes GitHub's API receives), so its signature check is
// independent of the SDK signer it is tested against.
package iamsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// RootUser names the account's root user wherever the API takes a user name
// (Keys, AddKey, Deny, SessionCredentials). It is the name the credential
// report gives the root row, and no IAM user can have it.
const RootUser = "<root_account>"

// DefaultAccountID is the account ID a Server uses unless AccountID is given.
const DefaultAccountID = "123456789012"

// Key statuses as IAM spells them.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// maxKeysPerUser is IAM's AccessKeysPerUser quota, which cannot be raised.
const maxKeysPerUser = 2

// Server is an IAM and STS endpoint on 127.0.0.1 speaking the AWS Query
// protocol. All of its methods are safe for concurrent use.
type Server struct {
	ts   *httptest.Server
	done chan struct{}

	mu          sync.Mutex
	account     string
	partition   string
	now         func() time.Time
	latency     time.Duration
	propagation time.Duration
	flaky       bool
	reportDelay time.Duration
	created     time.Time // the account's creation time, for the root row

	root     *user
	users    map[string]*user // by lower-case name: IAM names ignore case
	roles    map[string]*user // IAM roles, by lower-case name
	names    []string         // lower-case names, sorted when !namesDirty
	dirty    bool
	keys     map[string]*key
	sessions map[string]*session
	report   *credReport

	keyCtr, sessCtr, reqCtr uint64

	calls    []Call
	callBase int // calls dropped by ResetCalls
	faults   []*fault
	holds    map[string]*hold
	taken    map[string]*hold // HoldNext holds whose call is blocked
	denies   map[string]bool  // user(lower) + "\x00" + action

	events   []*Event // CloudTrail's record, oldest first
	eventCtr uint64
	regions  []Region
	trail    map[string]*bucket // LookupEvents rate limit, by region

	secrets   []*smSecret // Secrets Manager, every region
	secretCtr uint64
	params    map[string]*ssmParam // SSM Parameter Store, by region + "\x00" + name

	// org is the organization the account belongs to (org.go), nil if none.
	org *Org

	// GitHub's Actions secrets API (github.go); nil until first used.
	ghRepos   map[string]*ghRepo  // by lower-case OWNER/NAME
	ghOrgs    map[string]*ghScope // by lower-case name
	ghTokens  map[string]bool     // token → may write
	ghRepoCtr uint64

	seeders []func(*Server) error
	closed  sync.Once
}

type user struct {
	name      string
	path      string
	id        string
	created   time.Time
	root      bool
	keys      []*key // sorted by created, then ID
	mfaSerial string
	mfaCode   string
	// role: an IAM role, which only AssumeRole sessions sign as;
	// roleMFA: its trust policy requires MFA.
	role, roleMFA bool
	policies      map[string]string // inline policies: name → document
}

type key struct {
	id, secret string
	owner      *user
	status     string
	created    time.Time
	lastUsed   time.Time
	lastSvc    string
	lastRegion string
	apiCreated bool      // subject to the propagation delay
	born       time.Time // exact creation time on the server clock, for the delay
	flakyState int       // 0: no success yet, 1: one success, 2: flaked once
}

type session struct {
	id, secret, token string
	owner             *user
	issued, expires   time.Time
	mfa               bool
	// parent is the long-term key that minted it, "" when seeded.
	parent string
	// roleSession is the RoleSessionName of an AssumeRole session.
	roleSession string
}

// Key is a snapshot of one access key, as Keys returns it.
type Key struct {
	ID              string
	Secret          string
	User            string
	Status          string
	Created         time.Time
	LastUsed        time.Time // zero when never used
	LastUsedService string
	LastUsedRegion  string
}

// KeySeed describes an access key to create with User, Root or AddKey.
// Empty fields get defaults: a generated ID and secret, Status Active,
// Created now, never used.
type KeySeed struct {
	ID              string
	Secret          string
	Status          string
	Created         time.Time
	LastUsed        time.Time
	LastUsedService string
	LastUsedRegion  string
}

// Option configures a Server in NewServer or Start.
type Option func(*Server)

// AccountID sets the 12-digit account ID used in ARNs (default
// DefaultAccountID).
func AccountID(id string) Option { return func(s *Server) { s.account = id } }

// Partition sets the ARN partition (default "aws"; "aws-cn" and
// "aws-us-gov" are the others).
func Partition(p string) Option { return func(s *Server) { s.partition = p } }

// Now sets the clock used for creation dates, last-used dates, credential
// report times, session expiry, the propagation delay and the report delay
// (default time.Now). Seeded dates are relative to it, so give Now before
// any option that seeds users.
func Now(f func() time.Time) Option { return func(s *Server) { s.now = f } }

// Latency adds d to every call before it is processed.
func Latency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// PropagationDelay is the Option form of SetPropagationDelay.
func PropagationDelay(d time.Duration) Option { return func(s *Server) { s.propagation = d } }

// FlakyPropagation is the Option form of SetFlakyPropagation(true).
func FlakyPropagation() Option { return func(s *Server) { s.flaky = true } }

// ReportDelay is the Option form of SetReportDelay.
func ReportDelay(d time.Duration) Option { return func(s *Server) { s.reportDelay = d } }

// User seeds an IAM user with path "/" and the given keys.
func User(name string, keys ...KeySeed) Option {
	return UserWithPath(name, "/", keys...)
}

// UserWithPath seeds an IAM user with the given path and keys.
func UserWithPath(name, path string, keys ...KeySeed) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error {
			// A user predates its keys.
			created := s.clock()
			for _, k := range keys {
				if !k.Created.IsZero() && k.Created.Before(created) {
					created = k.Created.UTC().Truncate(time.Second)
				}
			}
			if err := s.addUser(name, path, created); err != nil {
				return err
			}
			for _, k := range keys {
				if _, _, err := s.AddKey(name, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// Root gives the root user the given access keys. Requests they sign act
// as arn:PARTITION:iam::ACCOUNT:root.
func Root(keys ...KeySeed) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error {
			for _, k := range keys {
				if _, _, err := s.AddKey(RootUser, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// RequireMFA (given after the option that creates the user) gives user an MFA device with the given serial number and a
// fixed one-time code, and an identity policy that denies IAM mutations
// (CreateUser, DeleteUser, CreateAccessKey, UpdateAccessKey,
// DeleteAccessKey) unless the request is signed with session credentials
// from GetSessionToken with that serial and code. GetSessionToken without
// MFA still succeeds, as on AWS, but its session cannot mutate.
// Role seeds an IAM role that AssumeRole lets any user of the account
// assume (its trust policy names the account); with requireMFA the trust
// policy also requires MFA (aws:MultiFactorAuthPresent), as assume-role
// profiles with mfa_serial expect.
func Role(name string, requireMFA bool) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.roles[strings.ToLower(name)] = &user{name: name, path: "/", role: true, roleMFA: requireMFA,
				id: "AROA" + base32ID("iamsim/role/"+s.account+"/"+name, 17), created: s.clock()}
			return nil
		})
	}
}

func RequireMFA(name, serial, code string) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			u := s.lookupLocked(name)
			if u == nil {
				return fmt.Errorf("iamsim: RequireMFA: no user %q", name)
			}
			u.mfaSerial, u.mfaCode = serial, code
			return nil
		})
	}
}

// NewServer starts a Server on 127.0.0.1 with a random port. It panics if
// an option is invalid (a bad user name, a third key for a user), as
// httptest.NewServer does when it cannot listen: both are bugs in the test.
func NewServer(opts ...Option) *Server {
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is NewServer for a given listen address, returning errors instead
// of panicking. The standalone binary uses it.
func Start(addr string, opts ...Option) (*Server, error) {
	s := &Server{
		done:      make(chan struct{}),
		account:   DefaultAccountID,
		partition: "aws",
		now:       time.Now,
		users:     make(map[string]*user),
		keys:      make(map[string]*key),
		sessions:  make(map[string]*session),
		roles:     make(map[string]*user),
		holds:     make(map[string]*hold),
		taken:     make(map[string]*hold),
		denies:    make(map[string]bool),
		regions:   defaultRegions(),
		trail:     make(map[string]*bucket),
	}
	for _, o := range opts {
		o(s)
	}
	if !validAccountID(s.account) {
		return nil, fmt.Errorf("iamsim: account ID %q is not 12 digits", s.account)
	}
	s.created = s.clock()
	s.root = &user{name: RootUser, root: true, id: s.account, created: s.created}
	seeders := s.seeders
	s.seeders = nil
	for _, f := range seeders {
		if err := f(s); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("iamsim: %w", err)
	}
	s.ts = httptest.NewUnstartedServer(s.Handler())
	s.ts.Listener.Close()
	s.ts.Listener = l
	s.ts.Start()
	return s, nil
}

// URL is the endpoint for both IAM and STS, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.ts.URL }

// Close releases held calls and shuts the server down, waiting for calls in
// flight.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.done)
		s.mu.Lock()
		for _, h := range s.holds {
			h.release()
		}
		for _, h := range s.taken {
			h.release()
		}
		s.mu.Unlock()
		s.ts.Close()
	})
}

// Handler is the Server's http.Handler, for mounting it elsewhere.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// clock returns the current time in UTC, truncated to seconds because IAM
// reports times to the second.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

func validAccountID(id string) bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *Server) arn(u *user) string {
	if u.role {
		return "arn:" + s.partition + ":iam::" + s.account + ":role/" + u.name
	}
	if u.root {
		return "arn:" + s.partition + ":iam::" + s.account + ":root"
	}
	return "arn:" + s.partition + ":iam::" + s.account + ":user" + u.path + u.name
}

func (s *Server) lookupLocked(name string) *user {
	if name == RootUser {
		return s.root
	}
	return s.users[strings.ToLower(name)]
}

func (s *Server) sortedNamesLocked() []string {
	if s.dirty {
		slices.Sort(s.names)
		s.dirty = false
	}
	return s.names
}

// AddUser creates an IAM user directly, without a call, created now.
// path "" means "/".
func (s *Server) AddUser(name, path string) error {
	return s.addUser(name, path, s.clock())
}

func (s *Server) addUser(name, path string, created time.Time) error {
	if path == "" {
		path = "/"
	}
	if e := checkUserName("userName", name); e != nil {
		return fmt.Errorf("iamsim: %s", e.msg)
	}
	if e := checkPath("path", path); e != nil {
		return fmt.Errorf("iamsim: %s", e.msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.createUserLocked(name, path, created)
	if e != nil {
		return fmt.Errorf("iamsim: %s", e.msg)
	}
	return nil
}

func (s *Server) createUserLocked(name, path string, created time.Time) (*user, *apiError) {
	lc := strings.ToLower(name)
	if _, ok := s.users[lc]; ok {
		return nil, errf("EntityAlreadyExists", "User with name %s already exists.", name)
	}
	u := &user{name: name, path: path, created: created, id: userID(s.account, name)}
	s.users[lc] = u
	s.names = append(s.names, lc)
	if n := len(s.names); n > 1 && s.names[n-2] > lc {
		s.dirty = true
	}
	return u, nil
}

func (s *Server) deleteUserLocked(u *user) {
	lc := strings.ToLower(u.name)
	delete(s.users, lc)
	names := s.sortedNamesLocked()
	if i, ok := slices.BinarySearch(names, lc); ok {
		s.names = slices.Delete(names, i, i+1)
	}
	for id, ss := range s.sessions {
		if ss.owner == u {
			delete(s.sessions, id)
		}
	}
	for k := range s.denies {
		if strings.HasPrefix(k, lc+"\x00") {
			delete(s.denies, k)
		}
	}
}

// AddKey gives user (RootUser for the root user) an access key directly,
// without a call and without the propagation delay. Empty seed.ID and
// seed.Secret are generated; the ID is deterministic for a given sequence
// of calls. It fails if the user already has two keys or the ID is taken.
func (s *Server) AddKey(name string, seed KeySeed) (id, secret string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(name)
	if u == nil {
		return "", "", fmt.Errorf("iamsim: no user %q", name)
	}
	k, e := s.addKeyLocked(u, seed)
	if e != nil {
		return "", "", fmt.Errorf("iamsim: %s", e.msg)
	}
	return k.id, k.secret, nil
}

func (s *Server) addKeyLocked(u *user, seed KeySeed) (*key, *apiError) {
	if len(u.keys) >= maxKeysPerUser {
		return nil, errf("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
	}
	k := &key{
		id:         seed.ID,
		secret:     seed.Secret,
		owner:      u,
		status:     seed.Status,
		created:    seed.Created.UTC().Truncate(time.Second),
		lastUsed:   seed.LastUsed.UTC().Truncate(time.Second),
		lastSvc:    seed.LastUsedService,
		lastRegion: seed.LastUsedRegion,
	}
	if k.id == "" {
		k.id = s.newIDLocked("AKIA")
	} else if e := checkAccessKeyID("accessKeyId", k.id); e != nil {
		return nil, e
	}
	if _, dup := s.keys[k.id]; dup {
		return nil, errf("EntityAlreadyExists", "Access key %s already exists.", k.id)
	}
	if k.secret == "" {
		k.secret = secretFor(k.id)
	}
	switch k.status {
	case "":
		k.status = StatusActive
	case StatusActive, StatusInactive:
	default:
		return nil, checkStatus("status", k.status)
	}
	k.born = s.now()
	if seed.Created.IsZero() {
		k.created = s.clock()
	}
	if seed.LastUsed.IsZero() {
		k.lastUsed = time.Time{}
	}
	if !k.lastUsed.IsZero() {
		if k.lastSvc == "" {
			k.lastSvc = "iam"
		}
		if k.lastRegion == "" {
			k.lastRegion = "us-east-1"
		}
	}
	s.keys[k.id] = k
	u.keys = append(u.keys, k)
	slices.SortFunc(u.keys, compareKeys)
	return k, nil
}

func compareKeys(a, b *key) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// newIDLocked returns an unused "AKIA"/"ASIA" ID derived from a counter, so
// a Server given the same sequence of calls issues the same IDs.
func (s *Server) newIDLocked(prefix string) string {
	for {
		s.keyCtr++
		id := keyIDFor(prefix, s.account, fmt.Sprintf("iamsim/%s/%s/%d", prefix, s.account, s.keyCtr))
		if _, ok := s.keys[id]; ok {
			continue
		}
		if _, ok := s.sessions[id]; ok {
			continue
		}
		return id
	}
}

// Keys returns a snapshot of user's keys (RootUser for the root user),
// sorted by creation time then ID; nil for an unknown user.
func (s *Server) Keys(name string) []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(name)
	if u == nil {
		return nil
	}
	out := make([]Key, 0, len(u.keys))
	for _, k := range u.keys {
		out = append(out, Key{
			ID: k.id, Secret: k.secret, User: u.name, Status: k.status,
			Created: k.created, LastUsed: k.lastUsed,
			LastUsedService: k.lastSvc, LastUsedRegion: k.lastRegion,
		})
	}
	return out
}

// Users returns the IAM user names (not the root user), sorted
// case-insensitively.
func (s *Server) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := s.sortedNamesLocked()
	out := make([]string, len(names))
	for i, lc := range names {
		out[i] = s.users[lc].name
	}
	return out
}

// SetLatency sets the latency added to every call from now on.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetPropagationDelay makes keys created by CreateAccessKey invalid
// (InvalidClientTokenId) until d has passed on the server's clock since
// their creation, as IAM's eventual consistency does for a few seconds.
// It applies to keys created before the call too; 0 turns it off.
func (s *Server) SetPropagationDelay(d time.Duration) {
	s.mu.Lock()
	s.propagation = d
	s.mu.Unlock()
}

// SetFlakyPropagation makes every key created by CreateAccessKey fail its
// second successful-looking authentication with InvalidClientTokenId, once:
// success, failure, then success for good. AWS has been seen doing this.
func (s *Server) SetFlakyPropagation(on bool) {
	s.mu.Lock()
	s.flaky = on
	s.mu.Unlock()
}

// SetReportDelay makes credential report generation take d on the server's
// clock: GetCredentialReport returns ReportInProgress until it has passed.
func (s *Server) SetReportDelay(d time.Duration) {
	s.mu.Lock()
	s.reportDelay = d
	s.mu.Unlock()
}

// DiscardReport drops the credential report, as its 4 hours passing
// would: the next GenerateCredentialReport starts a new one (benchmarks
// that time the generation on every run).
func (s *Server) DiscardReport() {
	s.mu.Lock()
	s.report = nil
	s.mu.Unlock()
}

// SessionCredentials issues temporary credentials (an "ASIA" key ID, a
// secret and a session token, valid 12 hours) that sign as user, as
// GetSessionToken would. They count as MFA-authenticated. It returns empty
// strings for an unknown user.
func (s *Server) SessionCredentials(name string) (id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(name)
	if u == nil {
		return "", "", ""
	}
	ss := s.newSessionLocked(u, 12*time.Hour, true)
	return ss.id, ss.secret, ss.token
}

// RoleSession issues session credentials of role name, as AssumeRole
// would (a cron job's or a pod's role); "" for an unknown role.
func (s *Server) RoleSession(name string) (id, secret, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roles[strings.ToLower(name)]
	if r == nil {
		return "", "", ""
	}
	ss := s.newSessionLocked(r, time.Hour, false)
	return ss.id, ss.secret, ss.token
}

func (s *Server) newSessionLocked(u *user, d time.Duration, mfa bool) *session {
	id := s.newIDLocked("ASIA")
	s.sessCtr++
	ss := &session{
		id:      id,
		secret:  secretFor(id),
		token:   sessionToken(id, s.sessCtr),
		owner:   u,
		issued:  s.clock(),
		expires: s.clock().Add(d),
		mfa:     mfa,
	}
	s.sessions[id] = ss
	return ss
}

// errClosed is returned by WaitHeld when the server closes first.
var errClosed = errors.New("iamsim: server closed")
