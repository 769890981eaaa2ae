package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/contain"
	"github.com/spf13/cobra"
)

type usageOptions struct {
	f       *Factory
	KeyID   string
	Days    int
	Regions []string
}

// usageEventJSON is one CloudTrail event of the key or of a session
// minted from it.
type usageEventJSON struct {
	EventID           string `json:"EventId"`
	EventTime         *string
	EventName         string
	EventSource       string
	AwsRegion         string
	AccessKeyID       string `json:"AccessKeyId"`
	MintedBy          string `json:",omitempty"`
	SourceIPAddress   string
	UserAgent         string
	ErrorCode         string `json:",omitempty"`
	IssuedAccessKeyID string `json:"IssuedAccessKeyId,omitempty"`
	Flag              string `json:",omitempty"`
}

type usageGroupJSON struct {
	Value     string
	Events    int
	FirstSeen *string
	LastSeen  *string
}

type usageSessionJSON struct {
	AccessKeyID string `json:"AccessKeyId"`
	MintedBy    string
	MintedAt    *string
	MintEventID string `json:"MintEventId"`
	Events      int
}

// usageJSON is keyrot usage's document, and contain's Usage.
type usageJSON struct {
	AccessKeyID string `json:"AccessKeyId"`
	StartTime   *string
	EndTime     *string
	Regions     []string
	RegionsFrom string
	EventCount  int
	Events      []usageEventJSON
	Sessions    []usageSessionJSON
	BySourceIP  []usageGroupJSON
	ByUserAgent []usageGroupJSON
	ByRegion    []usageGroupJSON
	ByEventName []usageGroupJSON
	Errors      []usageGroupJSON
	Flagged     []usageEventJSON
	Incomplete  []string
	// Calls is the number of CloudTrail and Account requests made.
	Calls int
}

func newCmdUsage(f *Factory, runF func(context.Context, *usageOptions) error) *cobra.Command {
	opts := &usageOptions{f: f, Days: contain.MaxDays}
	c := &cobra.Command{
		Use:   "usage --access-key-id ID [--days N] [--regions r1,r2,...]",
		Short: "Show who used an access key: CloudTrail events by address, agent, region",
		Long: `Show who used an access key, from CloudTrail's event history (LookupEvents
by AccessKeyId).

keyrot looks in every region enabled for the account (Account ListRegions:
the regions enabled by default and those opted into; --regions narrows),
for the last --days days (90, CloudTrail's limit), reading every page at
CloudTrail's rate of 2 requests per second per region, the regions at once.
A GetSessionToken, GetFederationToken or AssumeRole call by the key returns
a temporary key; keyrot looks that key up too and counts its events under
the key that minted it.

The summary groups the events by source address, user agent, region and
event name, with first and last seen, lists the errors, and flags the calls
an attacker makes to stay in or widen access (CreateUser, CreateAccessKey,
CreateLoginProfile, Attach/Put*Policy, UpdateAssumeRolePolicy,
RunInstances, StopLogging...). --output json carries every event with its
EventId.

CloudTrail's event history holds management events only (not S3 object or
Lambda data events), and appears about 5 to 15 minutes after the call.` + exitHelp(readCodes...),
		Example: `  # Who used the leaked key, in every enabled region, the last 90 days
  keyrot usage --access-key-id AKIAIOSFODNN7EXAMPLE

  # The last week, two regions, every event for a script
  keyrot usage --access-key-id AKIAIOSFODNN7EXAMPLE --days 7 --regions us-east-1,eu-west-1 --output json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runUsage(c.Context(), opts)
		},
	}
	addKeyFlag(c, &opts.KeyID, "the access key whose use to show (required)")
	addUsageFlags(c, &opts.Days, &opts.Regions)
	return c
}

// addUsageFlags are usage's window and regions, shared with contain.
func addUsageFlags(c *cobra.Command, days *int, regions *[]string) {
	c.Flags().IntVar(days, "days", *days, "how many days back to look, 1 to 90")
	c.Flags().StringSliceVar(regions, "regions", nil, "regions to look in, comma-separated (default: every region enabled for the account)")
}

func validateUsageFlags(keyID string, days int, regions []string) error {
	if keyID == "" {
		return usageErrorf("--access-key-id is required: the key whose use to look up")
	}
	if err := validateTarget("", keyID); err != nil {
		return err
	}
	if days < 1 || days > contain.MaxDays {
		return usageErrorf("invalid --days %d: CloudTrail's event history covers 1 to %d days", days, contain.MaxDays)
	}
	for _, r := range regions {
		if strings.TrimSpace(r) == "" {
			return usageErrorf("invalid --regions: an empty region name")
		}
		if err := validateRegion("--regions", r); err != nil {
			return err
		}
	}
	return nil
}

func (o *usageOptions) validate() error { return validateUsageFlags(o.KeyID, o.Days, o.Regions) }

func runUsage(ctx context.Context, o *usageOptions) error {
	c, err := o.f.Client(ctx)
	if err != nil {
		return err
	}
	stop := o.f.waiting("reading CloudTrail (2 requests a second per region)")
	s, err := contain.Usage(ctx, c, contain.UsageOptions{AccessKeyID: o.KeyID, Days: o.Days, Regions: o.Regions, Now: o.f.Now})
	stop()
	if err != nil {
		return err
	}
	for _, inc := range s.Incomplete {
		o.f.message("warning: incomplete: %s", inc)
	}
	o.f.message("%s", usageSentence(s))
	return renderUsage(o.f, s)
}

// usageSentence sums the lookup up in one line.
func usageSentence(s contain.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s in %d %s (%s to %s)", s.AccessKeyID, iamx.Count(len(s.Events), "event"), len(s.Regions), plural(len(s.Regions), "region", "regions"),
		s.Start.Format("2006-01-02"), s.End.Format("2006-01-02"))
	if len(s.BySourceIP) > 0 {
		fmt.Fprintf(&b, " from %d source %s", len(s.BySourceIP), plural(len(s.BySourceIP), "address", "addresses"))
	}
	if len(s.Sessions) > 0 {
		fmt.Fprintf(&b, ", %s followed", iamx.Count(len(s.Sessions), "minted session"))
	}
	if len(s.Flagged) > 0 {
		fmt.Fprintf(&b, "; %d flagged", len(s.Flagged))
	}
	fmt.Fprintf(&b, " (%s)", iamx.Count(s.Calls, "CloudTrail call"))
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func usageDoc(s contain.Summary) usageJSON {
	ev := func(es []contain.Event) []usageEventJSON {
		out := make([]usageEventJSON, 0, len(es))
		for _, e := range es {
			out = append(out, usageEventJSON{EventID: e.EventID, EventTime: jsonTime(e.EventTime), EventName: e.EventName, EventSource: e.Source,
				AwsRegion: e.Region, AccessKeyID: e.AccessKeyID, MintedBy: e.MintedBy, SourceIPAddress: e.SourceIP, UserAgent: e.UserAgent,
				ErrorCode: e.ErrorCode, IssuedAccessKeyID: e.IssuedKeyID, Flag: e.Flag})
		}
		return out
	}
	gr := func(gs []contain.Group) []usageGroupJSON {
		out := make([]usageGroupJSON, 0, len(gs))
		for _, g := range gs {
			out = append(out, usageGroupJSON{Value: g.Value, Events: g.Events, FirstSeen: jsonTime(g.FirstSeen), LastSeen: jsonTime(g.LastSeen)})
		}
		return out
	}
	doc := usageJSON{AccessKeyID: s.AccessKeyID, StartTime: jsonTime(s.Start), EndTime: jsonTime(s.End), Regions: s.Regions, RegionsFrom: s.RegionsFrom,
		EventCount: len(s.Events), Events: ev(s.Events), Sessions: []usageSessionJSON{}, BySourceIP: gr(s.BySourceIP), ByUserAgent: gr(s.ByUserAgent),
		ByRegion: gr(s.ByRegion), ByEventName: gr(s.ByEventName), Errors: gr(s.Errors), Flagged: ev(s.Flagged), Incomplete: s.Incomplete, Calls: s.Calls}
	if doc.Regions == nil {
		doc.Regions = []string{}
	}
	if doc.Incomplete == nil {
		doc.Incomplete = []string{}
	}
	for _, ss := range s.Sessions {
		doc.Sessions = append(doc.Sessions, usageSessionJSON{AccessKeyID: ss.AccessKeyID, MintedBy: ss.MintedBy, MintedAt: jsonTime(ss.MintedAt), MintEventID: ss.MintEventID, Events: ss.Events})
	}
	return doc
}

// renderUsage writes the summary: on a terminal a table per grouping and
// the flagged events; as text one line per event; as JSON usageJSON.
func renderUsage(f *Factory, s contain.Summary) error {
	doc := usageDoc(s)
	eventHeader := []string{"TIME", "EVENT", "REGION", "SOURCE IP", "USER AGENT", "ACCESS KEY", "ERROR", "FLAG"}
	eventRow := func(e contain.Event) []string {
		return []string{textTime(e.EventTime), e.EventName, e.Region, e.SourceIP, e.UserAgent, e.AccessKeyID, e.ErrorCode, e.Flag}
	}
	if f.outputFormat() != "table" || f.Global.Query != "" {
		rows := make([][]string, 0, len(s.Events))
		for _, e := range s.Events {
			rows = append(rows, eventRow(e))
		}
		return f.render(view{JSON: doc, Header: eventHeader, Rows: rows})
	}
	now := f.Now()
	section := func(title string, gs []contain.Group) error {
		if len(gs) == 0 {
			return nil
		}
		rows := make([][]string, 0, len(gs))
		for _, g := range gs {
			rows = append(rows, []string{g.Value, strconv.Itoa(g.Events), relative(g.FirstSeen, now, "-"), relative(g.LastSeen, now, "-")})
		}
		return f.writeTable(f.IO.Out, []string{title, "EVENTS", "FIRST SEEN", "LAST SEEN"}, rows)
	}
	for _, sec := range []struct {
		title string
		gs    []contain.Group
	}{{"SOURCE IP", s.BySourceIP}, {"USER AGENT", s.ByUserAgent}, {"REGION", s.ByRegion}, {"EVENT", s.ByEventName}, {"ERROR", s.Errors}} {
		if err := section(sec.title, sec.gs); err != nil {
			return err
		}
	}
	if len(s.Sessions) > 0 {
		rows := make([][]string, 0, len(s.Sessions))
		for _, ss := range s.Sessions {
			rows = append(rows, []string{ss.AccessKeyID, ss.MintedBy, relative(ss.MintedAt, now, "-"), strconv.Itoa(ss.Events)})
		}
		if err := f.writeTable(f.IO.Out, []string{"MINTED SESSION", "BY", "AT", "EVENTS"}, rows); err != nil {
			return err
		}
	}
	if len(s.Flagged) > 0 {
		rows := make([][]string, 0, len(s.Flagged))
		for _, e := range s.Flagged {
			rows = append(rows, eventRow(e))
		}
		return f.writeTable(f.IO.Out, eventHeader, rows)
	}
	return nil
}
