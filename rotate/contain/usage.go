package contain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"golang.org/x/time/rate"
)

// Trail is the part of CloudTrail and the Account service Usage calls.
type Trail interface {
	EnabledRegions(ctx context.Context) ([]string, error)
	LookupEvents(ctx context.Context, region, accessKeyID string, start, end time.Time, next string) (iamx.TrailPage, error)
}

// Limits of a usage lookup.
const (
	// MaxDays is how far back CloudTrail's event history reaches.
	MaxDays = 90
	// TrailRate is LookupEvents' quota per region and account.
	TrailRate = 2
	// maxPages bounds the pages read for one key in one region (50 events
	// each); a key with more events is reported as truncated.
	maxPages = 200
	// maxSessions bounds the minted sessions followed.
	maxSessions = 50
	// maxDepth bounds how far sessions minted by sessions are followed.
	maxDepth = 3
)

// UsageOptions say what to look up.
type UsageOptions struct {
	AccessKeyID string
	Days        int      // 1 to MaxDays; 0 means MaxDays
	Regions     []string // nil: every region enabled for the account
	Now         func() time.Time
	// Limiter, when set, replaces the per-region limiters (tests).
	Limiter func() *rate.Limiter
}

// Event is one call made with the key or with a session minted from it.
type Event struct {
	EventID   string `json:"EventId"`
	EventTime time.Time
	EventName string
	Source    string
	Region    string
	// AccessKeyID signed the call: the key, or a temporary key minted
	// from it (then MintedBy says by which call).
	AccessKeyID string `json:"AccessKeyId"`
	MintedBy    string `json:",omitempty"`
	SourceIP    string `json:"SourceIPAddress"`
	UserAgent   string
	ErrorCode   string `json:",omitempty"`
	// IssuedKeyID is the temporary key this call returned.
	IssuedKeyID string `json:"IssuedAccessKeyId,omitempty"`
	// Flag says why an attacker would make this call, "" if unremarkable.
	Flag string `json:",omitempty"`
}

// Group counts the events sharing one value.
type Group struct {
	Value     string
	Events    int
	FirstSeen time.Time
	LastSeen  time.Time
}

// Session is a temporary key minted from the key (or from such a session).
type Session struct {
	AccessKeyID string `json:"AccessKeyId"`
	MintedBy    string // the event name: GetSessionToken, AssumeRole...
	MintedAt    time.Time
	MintEventID string `json:"MintEventId"`
	Events      int
}

// Summary is who used a key.
type Summary struct {
	AccessKeyID string `json:"AccessKeyId"`
	Start, End  time.Time
	Regions     []string
	// RegionsFrom says how the regions were chosen.
	RegionsFrom string
	Events      []Event // newest first
	Sessions    []Session
	BySourceIP  []Group
	ByUserAgent []Group
	ByRegion    []Group
	ByEventName []Group
	Errors      []Group
	Flagged     []Event
	// Incomplete lists what could not be read ("eu-west-1: AccessDenied...").
	Incomplete []string
	Calls      int
}

// flags are the calls that an attacker makes to stay in, to widen access,
// to spend the account's money or to hide; keyed by event name.
var flags = map[string]string{
	"CreateUser":                    "persistence: new user",
	"CreateAccessKey":               "persistence: new access key",
	"CreateLoginProfile":            "persistence: console password",
	"UpdateLoginProfile":            "persistence: console password changed",
	"CreateVirtualMFADevice":        "persistence: MFA device",
	"EnableMFADevice":               "persistence: MFA device",
	"DeactivateMFADevice":           "persistence: MFA removed",
	"AttachUserPolicy":              "privilege: policy attached",
	"AttachGroupPolicy":             "privilege: policy attached",
	"AttachRolePolicy":              "privilege: policy attached",
	"PutUserPolicy":                 "privilege: inline policy",
	"PutGroupPolicy":                "privilege: inline policy",
	"PutRolePolicy":                 "privilege: inline policy",
	"AddUserToGroup":                "privilege: group membership",
	"CreatePolicyVersion":           "privilege: policy changed",
	"SetDefaultPolicyVersion":       "privilege: policy changed",
	"CreateRole":                    "persistence: new role",
	"UpdateAssumeRolePolicy":        "persistence: role trust changed",
	"UpdateAccessKey":               "persistence: key status changed",
	"GetFederationToken":            "persistence: federated session",
	"RunInstances":                  "compute: instances launched",
	"CreateFunction20150331":        "compute: Lambda function",
	"ImportKeyPair":                 "persistence: SSH key pair",
	"CreateKeyPair":                 "persistence: SSH key pair",
	"AuthorizeSecurityGroupIngress": "exposure: security group opened",
	"StopLogging":                   "evasion: CloudTrail stopped",
	"DeleteTrail":                   "evasion: CloudTrail deleted",
	"PutEventSelectors":             "evasion: CloudTrail changed",
	"LeaveOrganization":             "evasion: left the organization",
}

// mints are the calls whose event names a temporary key they returned.
var mints = []string{"GetSessionToken", "GetFederationToken", "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}

// Usage looks up every CloudTrail event of the key in every region,
// follows the sessions minted from it, and summarises. Regions are read
// concurrently, each at TrailRate. A region that fails is listed in
// Incomplete; the error is returned only when nothing could be read.
func Usage(ctx context.Context, t Trail, o UsageOptions) (Summary, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	days := o.Days
	if days <= 0 || days > MaxDays {
		days = MaxDays
	}
	s := Summary{AccessKeyID: o.AccessKeyID, End: o.Now().UTC()}
	s.Start = s.End.Add(-time.Duration(days) * 24 * time.Hour)
	s.Regions, s.RegionsFrom = o.Regions, "--regions"
	if len(s.Regions) == 0 {
		rs, err := t.EnabledRegions(ctx)
		s.Calls++
		if err != nil {
			return s, fmt.Errorf("list the regions enabled for the account (Account ListRegions): %w; name them with --regions", err)
		}
		s.Regions, s.RegionsFrom = rs, "Account ListRegions (enabled by default or opted in)"
	}
	limiter := o.Limiter
	if limiter == nil {
		limiter = func() *rate.Limiter { return rate.NewLimiter(TrailRate, 1) }
	}
	limiters := make(map[string]*rate.Limiter, len(s.Regions))
	for _, r := range s.Regions {
		limiters[r] = limiter()
	}

	type job struct {
		id, mintedBy string
	}
	seen := map[string]bool{o.AccessKeyID: true}
	jobs := []job{{id: o.AccessKeyID}}
	var failed []error
	lookups := 0
	mintedBy := map[string]*Session{}
	for depth := 0; depth < maxDepth && len(jobs) > 0; depth++ {
		var mu sync.Mutex
		var found []Event
		var wg sync.WaitGroup
		for _, region := range s.Regions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, j := range jobs {
					evs, calls, err := lookup(ctx, t, limiters[region], region, j.id, s.Start, s.End)
					mu.Lock()
					lookups++
					s.Calls += calls
					for i := range evs {
						evs[i].MintedBy = j.mintedBy
					}
					found = append(found, evs...)
					if err != nil {
						s.Incomplete = append(s.Incomplete, fmt.Sprintf("%s, key %s: %v", region, j.id, err))
						failed = append(failed, err)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		s.Events = append(s.Events, found...)
		jobs = nil
		for _, e := range found {
			if e.IssuedKeyID == "" || seen[e.IssuedKeyID] || !slices.Contains(mints, e.EventName) {
				continue
			}
			seen[e.IssuedKeyID] = true
			if len(mintedBy) >= maxSessions {
				s.Incomplete = append(s.Incomplete, fmt.Sprintf("more than %d minted sessions: %s and later ones not followed", maxSessions, e.IssuedKeyID))
				continue
			}
			ss := &Session{AccessKeyID: e.IssuedKeyID, MintedBy: e.EventName, MintedAt: e.EventTime, MintEventID: e.EventID}
			mintedBy[e.IssuedKeyID] = ss
			jobs = append(jobs, job{id: e.IssuedKeyID, mintedBy: e.EventName + " " + e.EventID})
		}
	}
	sort.SliceStable(s.Events, func(i, j int) bool {
		if !s.Events[i].EventTime.Equal(s.Events[j].EventTime) {
			return s.Events[i].EventTime.After(s.Events[j].EventTime)
		}
		return s.Events[i].EventID < s.Events[j].EventID
	})
	sort.Strings(s.Incomplete)
	for _, e := range s.Events {
		if ss := mintedBy[e.AccessKeyID]; ss != nil {
			ss.Events++
		}
		if e.Flag != "" {
			s.Flagged = append(s.Flagged, e)
		}
	}
	for _, ss := range mintedBy {
		s.Sessions = append(s.Sessions, *ss)
	}
	sort.Slice(s.Sessions, func(i, j int) bool { return s.Sessions[i].MintedAt.Before(s.Sessions[j].MintedAt) })
	s.BySourceIP = group(s.Events, func(e Event) string { return e.SourceIP })
	s.ByUserAgent = group(s.Events, func(e Event) string { return e.UserAgent })
	s.ByRegion = group(s.Events, func(e Event) string { return e.Region })
	s.ByEventName = group(s.Events, func(e Event) string { return e.EventName })
	s.Errors = group(s.Events, func(e Event) string { return e.ErrorCode })
	if len(failed) > 0 && len(failed) == lookups {
		return s, fmt.Errorf("CloudTrail LookupEvents failed in every region: %w", failed[0])
	}
	return s, nil
}

// throttleRetries bounds the retries of a throttled LookupEvents, on top
// of the SDK's own; they wait 1, 2, 3... seconds.
const throttleRetries = 4

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup reads every page of one key's events in one region.
func lookup(ctx context.Context, t Trail, lim *rate.Limiter, region, id string, start, end time.Time) ([]Event, int, error) {
	var out []Event
	next, calls := "", 0
	for page := 0; ; page++ {
		if page == maxPages {
			return out, calls, fmt.Errorf("more than %d events: only the newest %d read", maxPages*50, maxPages*50)
		}
		if err := lim.Wait(ctx); err != nil {
			return out, calls, err
		}
		p, err := t.LookupEvents(ctx, region, id, start, end, next)
		calls++
		// Other clients of the account share the quota: wait and retry.
		for attempt := 1; errors.Is(err, iamx.ErrThrottled) && attempt <= throttleRetries; attempt++ {
			if serr := sleep(ctx, time.Duration(attempt)*time.Second); serr != nil {
				return out, calls, serr
			}
			p, err = t.LookupEvents(ctx, region, id, start, end, next)
			calls++
		}
		if err != nil {
			return out, calls, err
		}
		for _, e := range p.Events {
			out = append(out, Event{
				EventID: e.ID, EventTime: e.Time.UTC(), EventName: e.Name, Source: e.Source, Region: e.Region,
				AccessKeyID: e.AccessKeyID, SourceIP: e.SourceIP, UserAgent: e.UserAgent, ErrorCode: e.ErrorCode,
				IssuedKeyID: e.IssuedKeyID, Flag: flags[e.Name],
			})
		}
		if next = p.Next; next == "" {
			return out, calls, nil
		}
	}
}

// group counts events by key, skipping empty keys, most events first.
func group(evs []Event, key func(Event) string) []Group {
	idx := map[string]int{}
	out := []Group{}
	for _, e := range evs {
		k := key(e)
		if k == "" {
			continue
		}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Group{Value: k, FirstSeen: e.EventTime, LastSeen: e.EventTime})
		}
		g := &out[i]
		g.Events++
		if e.EventTime.Before(g.FirstSeen) {
			g.FirstSeen = e.EventTime
		}
		if e.EventTime.After(g.LastSeen) {
			g.LastSeen = e.EventTime
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Events != out[j].Events {
			return out[i].Events > out[j].Events
		}
		return out[i].Value < out[j].Value
	})
	return out
}
