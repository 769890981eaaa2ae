package iamsim

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Org is an AWS Organization of simulated accounts behind one endpoint:
// each account is a Server with its own IAM state, and a request goes to
// the account whose key signed it (access key IDs encode their account, as
// AWS's do). The management account's Server also answers Organizations
// (DescribeOrganization, ListAccounts, ListRoots, ListChildren,
// ListAccountsForParent), and STS AssumeRole of a role in a member account
// issues session credentials that act in that account only.
//
// Every member account has the role OrganizationAccountAccessRole, which
// trusts the management account (and delegated administrators).
//
//	mgmt := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
//	org := iamsim.NewOrg(mgmt)
//	t.Cleanup(org.Close)
//	dev := org.AddAccount("111111111111", "dev", iamsim.User("ci", iamsim.KeySeed{}))
//	// point the SDK at org.URL(), signed by mgmt's admin key
type Org struct {
	ts   *httptest.Server
	mgmt *Server

	mu        sync.Mutex
	id        string
	rootID    string
	accounts  []*orgAccount // in the order they joined
	byID      map[string]*orgAccount
	ous       map[string]*orgUnit
	ouCtr     int
	denied    map[string]bool // account IDs whose role refuses AssumeRole
	delegated map[string]bool
	externals map[string]string // account ID → ExternalId its role requires
	lifetime  time.Duration     // of member sessions; 0: as asked
	closed    sync.Once
}

type orgAccount struct {
	srv    *Server
	id     string
	name   string
	email  string
	status string
	parent string
	joined time.Time
}

type orgUnit struct {
	id, name, parent string
}

// OrgAccessRole is the role Organizations creates in the accounts it makes.
const OrgAccessRole = "OrganizationAccountAccessRole"

// Account statuses as Organizations reports them.
const (
	AccountActive         = "ACTIVE"
	AccountSuspended      = "SUSPENDED"
	AccountPendingClosure = "PENDING_CLOSURE"
)

// NewOrg makes mgmt the management account of a new organization and
// serves it, with every account added later, on one endpoint of
// 127.0.0.1. Close closes the member accounts' Servers too (not mgmt's).
func NewOrg(mgmt *Server) *Org {
	o, err := StartOrg("127.0.0.1:0", mgmt)
	if err != nil {
		panic(err)
	}
	return o
}

// StartOrg is NewOrg listening on addr (iamsim --demo).
func StartOrg(addr string, mgmt *Server) (*Org, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	o := &Org{mgmt: mgmt, byID: map[string]*orgAccount{}, ous: map[string]*orgUnit{},
		denied: map[string]bool{}, delegated: map[string]bool{}, externals: map[string]string{}}
	mgmt.mu.Lock()
	acct := mgmt.account
	created := mgmt.created
	mgmt.org = o
	mgmt.mu.Unlock()
	o.id = "o-" + strings.ToLower(base32ID("iamsim/org/"+acct, 10))
	o.rootID = "r-" + strings.ToLower(base32ID("iamsim/root/"+acct, 4))
	a := &orgAccount{srv: mgmt, id: acct, name: "management", email: "aws+management@example.com", status: AccountActive, parent: o.rootID, joined: created}
	o.accounts = append(o.accounts, a)
	o.byID[acct] = a
	o.ts = httptest.NewUnstartedServer(http.HandlerFunc(o.serveHTTP))
	o.ts.Listener.Close()
	o.ts.Listener = l
	o.ts.Start()
	return o, nil
}

// URL is the organization's endpoint: every account's IAM, STS and the
// other services, and Organizations.
func (o *Org) URL() string { return o.ts.URL }

// Close shuts the endpoint and the member accounts' Servers down.
func (o *Org) Close() {
	o.closed.Do(func() {
		o.ts.Close()
		o.mu.Lock()
		var members []*Server
		for _, a := range o.accounts {
			if a.srv != o.mgmt {
				members = append(members, a.srv)
			}
		}
		o.mu.Unlock()
		for _, s := range members {
			s.Close()
		}
	})
}

// AddAccount creates a member account with its own Server (opts as for
// NewServer; the account ID and the management account's clock are set)
// and the role OrganizationAccountAccessRole, under the root. It panics on
// a bad or duplicate ID, a bug in the test.
func (o *Org) AddAccount(id, name string, opts ...Option) *Server {
	o.mu.Lock()
	_, dup := o.byID[id]
	o.mu.Unlock()
	if dup {
		panic(fmt.Sprintf("iamsim: account %s is already in the organization", id))
	}
	o.mgmt.mu.Lock()
	now := o.mgmt.now
	o.mgmt.mu.Unlock()
	all := append([]Option{Now(now), AccountID(id), Role(OrgAccessRole, false)}, opts...)
	srv := NewServer(all...)
	srv.mu.Lock()
	srv.org = o
	joined := srv.created
	srv.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	a := &orgAccount{srv: srv, id: id, name: name, email: "aws+" + name + "@example.com", status: AccountActive, parent: o.rootID, joined: joined}
	o.accounts = append(o.accounts, a)
	o.byID[id] = a
	return srv
}

// Account returns the Server of account id, nil if it is not a member.
func (o *Org) Account(id string) *Server {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a := o.byID[id]; a != nil {
		return a.srv
	}
	return nil
}

// SetAccountStatus sets an account's status (AccountSuspended ...).
func (o *Org) SetAccountStatus(id, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a := o.byID[id]; a != nil {
		a.status = status
	}
}

// AddOU creates an organizational unit under parent (the root's ID, from
// RootID, or an OU's) and returns its ID.
func (o *Org) AddOU(parent, name string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ouCtr++
	id := fmt.Sprintf("ou-%s-%s", strings.TrimPrefix(o.rootID, "r-"), strings.ToLower(base32ID(fmt.Sprintf("iamsim/ou/%s/%d", o.id, o.ouCtr), 8)))
	o.ous[id] = &orgUnit{id: id, name: name, parent: parent}
	return id
}

// RootID is the ID of the organization's root.
func (o *Org) RootID() string { return o.rootID }

// MoveAccount puts account id under parent.
func (o *Org) MoveAccount(id, parent string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a := o.byID[id]; a != nil {
		a.parent = parent
	}
}

// DenyAssumeRole makes account id's role refuse AssumeRole (AccessDenied),
// as a trust policy that names someone else would.
func (o *Org) DenyAssumeRole(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.denied[id] = true
}

// RequireExternalID makes account id's role require ExternalId ext.
func (o *Org) RequireExternalID(id, ext string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.externals[id] = ext
}

// Delegate makes account id a delegated administrator: it may call
// Organizations' List operations and assume the member accounts' roles.
func (o *Org) Delegate(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delegated[id] = true
}

// SessionLifetime makes the sessions AssumeRole issues into member
// accounts expire after d whatever was asked (tests of credential refresh
// in runs longer than a session); 0 restores the duration asked for.
func (o *Org) SessionLifetime(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lifetime = d
}

// serveHTTP routes a request to the account whose key signed it; an
// unsigned or unknown one goes to the management account, which answers
// with the error AWS would.
func (o *Org) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	target := o.mgmt
	if acct, ok := accountOfKeyID(signerKeyID(r.Header.Get("Authorization"))); ok {
		if s := o.Account(acct); s != nil {
			target = s
		}
	}
	target.serveHTTP(w, r)
}

// assumeInto issues a session of role arn in another account of the
// organization to the caller of s (held locked by the caller; it is
// released meanwhile, so that two accounts never lock each other).
func (s *Server) assumeInto(req *request, arn, account, roleName, sessionName string, d time.Duration) (*xw, *apiError) {
	o := s.org
	denied := errf("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.arn(req.who.user), arn)
	o.mu.Lock()
	a := o.byID[account]
	trusted := s.account == o.mgmt.account || o.delegated[s.account]
	refuse := o.denied[account]
	ext, needExt := o.externals[account]
	lifetime := o.lifetime
	o.mu.Unlock()
	// A role session may assume the member's role too (role chaining: a
	// cron job or a pod signs as a role of the management account).
	if a == nil || !trusted || refuse {
		return nil, denied
	}
	if needExt && req.p.get("ExternalId") != ext {
		return nil, denied
	}
	member := a.srv
	s.mu.Unlock()
	defer s.mu.Lock()
	member.mu.Lock()
	defer member.mu.Unlock()
	role := member.roles[strings.ToLower(roleName)]
	if role == nil || role.roleMFA {
		return nil, denied
	}
	ss := member.newSessionLocked(role, d, false)
	if lifetime > 0 {
		ss.expires = ss.issued.Add(lifetime)
	}
	ss.roleSession = sessionName
	req.issued = ss.id
	return member.assumeRoleResult(ss, role, sessionName), nil
}

// Organizations operations, served by the management account's Server
// (and a delegated administrator's).

func (s *Server) orgAllowedLocked(req *request) *apiError {
	o := s.org
	if o == nil {
		return errf("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	o.mu.Lock()
	ok := s.account == o.mgmt.account || o.delegated[s.account]
	o.mu.Unlock()
	if !ok {
		return errf("AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return nil
}

func (s *Server) orgDescribe(req *request) (any, *apiError) {
	if s.org == nil {
		return nil, errf("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.byID[o.mgmt.account]
	return map[string]any{"Organization": map[string]any{
		"Id": o.id, "Arn": "arn:aws:organizations::" + m.id + ":organization/" + o.id, "FeatureSet": "ALL",
		"MasterAccountArn": "arn:aws:organizations::" + m.id + ":account/" + o.id + "/" + m.id,
		"MasterAccountId":  m.id, "MasterAccountEmail": m.email,
		"AvailablePolicyTypes": []any{},
	}}, nil
}

type orgPage struct {
	ParentID   string `json:"ParentId"`
	ChildType  string
	MaxResults *int
	NextToken  string
}

// page cuts items at the page the request asks for (at most max, 20 for
// accounts as on AWS).
func orgPageOf[T any](items []T, in orgPage, max int) ([]T, string, *apiError) {
	n := max
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > max {
			return nil, "", errf("InvalidInputException", "You provided a value that does not match the required pattern: MaxResults must be between 1 and %d.", max)
		}
		n = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "page-"))
		if err != nil || v < 0 || v > len(items) {
			return nil, "", errf("InvalidInputException", "The provided NextToken is not valid.")
		}
		start = v
	}
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = "page-" + strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (a *orgAccount) doc(orgID, mgmt string) map[string]any {
	state := a.status
	return map[string]any{"Id": a.id, "Arn": "arn:aws:organizations::" + mgmt + ":account/" + orgID + "/" + a.id,
		"Email": a.email, "Name": a.name, "Status": a.status, "State": state, "JoinedMethod": "CREATED",
		"JoinedTimestamp": float64(a.joined.Unix())}
}

func (s *Server) orgListAccounts(req *request) (any, *apiError) {
	if e := s.orgAllowedLocked(req); e != nil {
		return nil, e
	}
	var in orgPage
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.accountsPageLocked(o.accounts, in)
}

// accountsPageLocked is ListAccounts' and ListAccountsForParent's answer:
// the page of accounts in asks for.
func (o *Org) accountsPageLocked(accounts []*orgAccount, in orgPage) (any, *apiError) {
	page, next, e := orgPageOf(accounts, in, 20)
	if e != nil {
		return nil, e
	}
	docs := []any{}
	for _, a := range page {
		docs = append(docs, a.doc(o.id, o.mgmt.account))
	}
	out := map[string]any{"Accounts": docs}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) orgListRoots(req *request) (any, *apiError) {
	if e := s.orgAllowedLocked(req); e != nil {
		return nil, e
	}
	o := s.org
	return map[string]any{"Roots": []any{map[string]any{"Id": o.rootID, "Name": "Root",
		"Arn": "arn:aws:organizations::" + o.mgmt.account + ":root/" + o.id + "/" + o.rootID, "PolicyTypes": []any{}}}}, nil
}

// parentKnownLocked reports whether id is the root or an OU.
func (o *Org) parentKnownLocked(id string) bool {
	_, ok := o.ous[id]
	return ok || id == o.rootID
}

func (s *Server) orgListChildren(req *request) (any, *apiError) {
	if e := s.orgAllowedLocked(req); e != nil {
		return nil, e
	}
	var in orgPage
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if in.ChildType != "ACCOUNT" && in.ChildType != "ORGANIZATIONAL_UNIT" {
		return nil, errf("InvalidInputException", "You provided a value that does not match the required pattern: ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.")
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.parentKnownLocked(in.ParentID) {
		return nil, errf("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	var ids []string
	if in.ChildType == "ACCOUNT" {
		for _, a := range o.accounts {
			if a.parent == in.ParentID {
				ids = append(ids, a.id)
			}
		}
	} else {
		for _, u := range o.ous {
			if u.parent == in.ParentID {
				ids = append(ids, u.id)
			}
		}
		slices.Sort(ids)
	}
	page, next, e := orgPageOf(ids, in, 20)
	if e != nil {
		return nil, e
	}
	docs := []any{}
	for _, id := range page {
		docs = append(docs, map[string]any{"Id": id, "Type": in.ChildType})
	}
	out := map[string]any{"Children": docs}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Server) orgListAccountsForParent(req *request) (any, *apiError) {
	if e := s.orgAllowedLocked(req); e != nil {
		return nil, e
	}
	var in orgPage
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	o := s.org
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.parentKnownLocked(in.ParentID) {
		return nil, errf("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	var in2 []*orgAccount
	for _, a := range o.accounts {
		if a.parent == in.ParentID {
			in2 = append(in2, a)
		}
	}
	return o.accountsPageLocked(in2, in)
}

// roleARNAccount splits arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func roleARNAccount(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	p := strings.TrimPrefix(parts[5], "role/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[i+1:]
	}
	if _, err := url.PathUnescape(p); err != nil || p == "" {
		return "", "", false
	}
	return parts[4], p, true
}
