package iamx

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// trailAPI is exactly the part of *cloudtrail.Client keyrot calls.
type trailAPI interface {
	LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ trailAPI = (*cloudtrail.Client)(nil)

// TrailEvent is one CloudTrail management event, with the fields of its
// record keyrot reports.
type TrailEvent struct {
	ID          string
	Time        time.Time
	Name        string
	Source      string
	Region      string
	AccessKeyID string
	User        string
	SourceIP    string
	UserAgent   string
	ErrorCode   string
	ReadOnly    bool
	// IssuedKeyID is the temporary access key ID the call returned
	// (GetSessionToken, GetFederationToken, AssumeRole...), "" if none.
	IssuedKeyID string
}

// TrailPage is one page of LookupEvents.
type TrailPage struct {
	Events []TrailEvent
	Next   string
}

// regional holds one client per region, made on first use.
type regional[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func (r *regional[T]) get(region string, make func() T) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	c, ok := r.m[region]
	if !ok {
		c = make()
		r.m[region] = c
	}
	return c
}

// trailClients are the per-region CloudTrail clients.
type trailClients = regional[trailAPI]

func (c *Client) trail(region string) trailAPI {
	return c.trails.get(region, func() trailAPI {
		return cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) { o.Region = region })
	})
}

// LookupEvents reads one page (up to 50 events, newest first) of the
// CloudTrail events of accessKeyID in region between start and end; next
// is the previous page's Next, "" for the first.
func (c *Client) LookupEvents(ctx context.Context, region, accessKeyID string, start, end time.Time, next string) (TrailPage, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(accessKeyID)}},
		StartTime:        aws.Time(start), EndTime: aws.Time(end), MaxResults: aws.Int32(50), NextToken: optional(next),
	}
	out, err := c.trail(region).LookupEvents(ctx, in)
	if err != nil {
		return TrailPage{}, classify(err)
	}
	page := TrailPage{Next: aws.ToString(out.NextToken), Events: make([]TrailEvent, 0, len(out.Events))}
	for _, e := range out.Events {
		page.Events = append(page.Events, trailEvent(e, region))
	}
	return page, nil
}

// record is the part of a CloudTrail record (the CloudTrailEvent JSON)
// that LookupEvents does not give as fields.
type record struct {
	AWSRegion        string `json:"awsRegion"`
	SourceIPAddress  string `json:"sourceIPAddress"`
	UserAgent        string `json:"userAgent"`
	ErrorCode        string `json:"errorCode"`
	ResponseElements struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"credentials"`
	} `json:"responseElements"`
}

func trailEvent(e cttypes.Event, region string) TrailEvent {
	t := TrailEvent{
		ID: aws.ToString(e.EventId), Time: aws.ToTime(e.EventTime), Name: aws.ToString(e.EventName),
		Source: aws.ToString(e.EventSource), Region: region, AccessKeyID: aws.ToString(e.AccessKeyId),
		User: aws.ToString(e.Username), ReadOnly: aws.ToString(e.ReadOnly) == "true",
	}
	var r record
	// A record that does not parse still gives the fields above.
	if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r) == nil {
		t.SourceIP, t.UserAgent, t.ErrorCode = r.SourceIPAddress, r.UserAgent, r.ErrorCode
		t.IssuedKeyID = r.ResponseElements.Credentials.AccessKeyID
		if r.AWSRegion != "" {
			t.Region = r.AWSRegion
		}
	}
	return t
}

// EnabledRegions lists the regions enabled for the account (Account
// ListRegions: enabled by default, or opted into), sorted.
func (c *Client) EnabledRegions(ctx context.Context) ([]string, error) {
	cl := account.NewFromConfig(c.cfg)
	p := account.NewListRegionsPaginator(cl, &account.ListRegionsInput{
		RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault},
		MaxResults:              aws.Int32(50),
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, r := range page.Regions {
			out = append(out, aws.ToString(r.RegionName))
		}
	}
	sort.Strings(out)
	return out, nil
}
