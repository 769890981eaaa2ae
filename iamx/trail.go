package iamx

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// The members of CloudTrail's LookupEvents (AWS JSON 1.1) and of Account's
// ListRegions (REST-JSON) keyrot sends and reads.
type (
	lookupEventsInput struct {
		LookupAttributes []lookupAttribute
		StartTime        awsjson.Time
		EndTime          awsjson.Time
		MaxResults       int32
		NextToken        string `json:",omitempty"`
	}
	lookupAttribute struct {
		AttributeKey   string
		AttributeValue string
	}
	lookupEventsOutput struct {
		Events    []trailRecord
		NextToken string
	}
	// trailRecord is one event of LookupEvents.
	trailRecord struct {
		EventID         string `json:"EventId"`
		EventName       string
		EventSource     string
		EventTime       awsjson.Time
		AccessKeyID     string `json:"AccessKeyId"`
		Username        string
		ReadOnly        string
		CloudTrailEvent string
	}
	listRegionsInput struct {
		MaxResults              int32
		NextToken               string `json:",omitempty"`
		RegionOptStatusContains []string
	}
	listRegionsOutput struct {
		Regions []struct {
			RegionName string
		}
		NextToken string
	}
)

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
type trailClients = regional[*awsjson.Client]

func (c *Client) trail(region string) *awsjson.Client {
	return c.trails.get(region, func() *awsjson.Client { return c.jsonClient(awsjson.CloudTrail, region) })
}

// LookupEvents reads one page (up to 50 events, newest first) of the
// CloudTrail events of accessKeyID in region between start and end; next
// is the previous page's Next, "" for the first.
func (c *Client) LookupEvents(ctx context.Context, region, accessKeyID string, start, end time.Time, next string) (TrailPage, error) {
	in := lookupEventsInput{
		LookupAttributes: []lookupAttribute{{AttributeKey: "AccessKeyId", AttributeValue: accessKeyID}},
		StartTime:        awsjson.Time{Time: start}, EndTime: awsjson.Time{Time: end}, MaxResults: 50, NextToken: next,
	}
	var out lookupEventsOutput
	if err := c.trail(region).Call(ctx, "LookupEvents", in, &out); err != nil {
		return TrailPage{}, classify(err)
	}
	page := TrailPage{Next: out.NextToken, Events: make([]TrailEvent, 0, len(out.Events))}
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

func trailEvent(e trailRecord, region string) TrailEvent {
	t := TrailEvent{
		ID: e.EventID, Time: e.EventTime.Time, Name: e.EventName,
		Source: e.EventSource, Region: region, AccessKeyID: e.AccessKeyID,
		User: e.Username, ReadOnly: e.ReadOnly == "true",
	}
	var r record
	// A record that does not parse still gives the fields above.
	if json.Unmarshal([]byte(e.CloudTrailEvent), &r) == nil {
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
	cl := c.jsonClient(awsjson.Account, "")
	in := listRegionsInput{RegionOptStatusContains: []string{"ENABLED", "ENABLED_BY_DEFAULT"}, MaxResults: 50}
	var out []string
	for {
		var page listRegionsOutput
		if err := cl.CallREST(ctx, "ListRegions", "/listRegions", in, &page); err != nil {
			return nil, classify(err)
		}
		for _, r := range page.Regions {
			out = append(out, r.RegionName)
		}
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.Strings(out)
	return out, nil
}
