package iamsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is CloudTrail: every call the simulator serves to a signer it
// authenticated is recorded as a management event (who signed, with which
// key, from which address and user agent, in which region, its error, and
// the temporary key a GetSessionToken returned), and LookupEvents (AWS JSON
// 1.1, CloudTrail_20131101.LookupEvents) answers from that record and from
// seeded events, per region, 50 events a page, at CloudTrail's rate of 2
// requests per second per region.

// Event is one CloudTrail management event.
type Event struct {
	ID          string // generated when empty
	Time        time.Time
	Name        string // "ListUsers"
	Source      string // "iam.amazonaws.com"
	Region      string // default "us-east-1"
	AccessKeyID string
	User        string
	SourceIP    string
	UserAgent   string
	ErrorCode   string
	ReadOnly    bool
	// IssuedKeyID is the temporary access key the call returned
	// (GetSessionToken, GetFederationToken, AssumeRole).
	IssuedKeyID string
}

// maxEvents bounds the record; the oldest events go first.
const maxEvents = 100000

// cloudTrailDays is how far back LookupEvents reaches.
const cloudTrailDays = 90

// Events seeds recorded events, as if calls had come from elsewhere.
func Events(evs ...Event) Option {
	return func(s *Server) {
		s.seeders = append(s.seeders, func(s *Server) error {
			for _, e := range evs {
				s.RecordEvent(e)
			}
			return nil
		})
	}
}

// RecordEvent adds an event to the record.
func (s *Server) RecordEvent(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEventLocked(e)
}

func (s *Server) addEventLocked(e Event) {
	s.eventCtr++
	if e.ID == "" {
		e.ID = requestID(1<<40 + s.eventCtr)
	}
	if e.Time.IsZero() {
		e.Time = s.clock()
	}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	if len(s.events) >= maxEvents {
		s.events = slices.Delete(s.events, 0, len(s.events)-maxEvents+1)
	}
	s.events = append(s.events, &e)
}

// RecordedEvents returns a copy of the record, oldest first.
func (s *Server) RecordedEvents() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = *e
	}
	return out
}

func readOnlyAction(a string) bool {
	for _, p := range []string{"Get", "List", "Lookup", "Describe"} {
		if strings.HasPrefix(a, p) {
			return true
		}
	}
	return false
}

// recordLocked records a served call as CloudTrail would.
func (s *Server) recordLocked(req *request, service string, e *apiError) {
	who := req.who
	ip, _, err := net.SplitHostPort(req.http.RemoteAddr)
	if err != nil {
		ip = req.http.RemoteAddr
	}
	region := who.region
	if service == "iam" {
		region = "us-east-1" // IAM is global: CloudTrail records it there
	}
	ev := Event{
		Name: req.action, Source: service + ".amazonaws.com", Region: region,
		AccessKeyID: who.keyID, User: who.user.name, SourceIP: ip, UserAgent: req.http.UserAgent(),
		ReadOnly: readOnlyAction(req.action), IssuedKeyID: req.issued,
	}
	if who.user.root {
		ev.User = "root"
	}
	if e != nil {
		ev.ErrorCode = e.code
	}
	s.addEventLocked(ev)
}

// bucket is a token bucket on the wall clock.
type bucket struct {
	tokens float64
	last   time.Time
}

// cloudTrailRate is LookupEvents' quota: 2 requests per second per region.
const cloudTrailRate = 2

func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = math.Min(cloudTrailRate, b.tokens+now.Sub(b.last).Seconds()*cloudTrailRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

var lookupKeys = []string{"AccessKeyId", "EventId", "EventName", "EventSource", "ReadOnly", "ResourceName", "ResourceType", "Username"}

type lookupInput struct {
	LookupAttributes []struct{ AttributeKey, AttributeValue string }
	StartTime        *float64
	EndTime          *float64
	MaxResults       *int
	NextToken        *string
}

func epoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func (s *Server) lookupEvents(req *request) (any, *apiError) {
	region := req.who.region
	b := s.trail[region]
	if b == nil {
		b = &bucket{tokens: cloudTrailRate}
		s.trail[region] = b
	}
	if !b.take(time.Now()) {
		return nil, errf("ThrottlingException", "Rate exceeded")
	}
	var in lookupInput
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if len(in.LookupAttributes) > 1 {
		return nil, errf("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	var key, value string
	if len(in.LookupAttributes) == 1 {
		key, value = in.LookupAttributes[0].AttributeKey, in.LookupAttributes[0].AttributeValue
		if !slices.Contains(lookupKeys, key) {
			return nil, errf("InvalidLookupAttributesException", "The lookup attribute key %q is not valid; valid keys are %s.", key, strings.Join(lookupKeys, ", "))
		}
		if value == "" || len(value) > 2000 {
			return nil, errf("InvalidLookupAttributesException", "The lookup attribute value must be 1 to 2000 characters long.")
		}
	}
	now := s.clock()
	oldest := now.Add(-cloudTrailDays * 24 * time.Hour)
	start, end := oldest, now
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
	}
	if start.After(end) {
		return nil, errf("InvalidTimeRangeException", "Start time must be earlier than end time.")
	}
	if start.Before(oldest) {
		start = oldest
	}
	limit := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, errf("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
		}
		limit = *in.MaxResults
	}
	// A NextToken is good for the same parameters as given, not as
	// clamped (the 90-day horizon moves with the clock).
	raw := func(f *float64) string {
		if f == nil {
			return "-"
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	query := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", region, key, value, raw(in.StartTime), raw(in.EndTime))
	offset := 0
	if in.NextToken != nil {
		raw, err := base64.StdEncoding.DecodeString(*in.NextToken)
		q, n, ok := strings.Cut(string(raw), "\x01")
		off, aerr := strconv.Atoi(n)
		if err != nil || !ok || q != query || aerr != nil || off < 0 {
			return nil, errf("InvalidNextTokenException", "Invalid NextToken: it must come from a call with the same parameters.")
		}
		offset = off
	}
	var match []*Event
	for i := len(s.events) - 1; i >= 0; i-- { // newest first
		e := s.events[i]
		if e.Region != region || e.Time.Before(start) || e.Time.After(end) || !e.has(key, value) {
			continue
		}
		match = append(match, e)
	}
	type resource struct{ ResourceType, ResourceName string }
	type event struct {
		EventId, EventName, ReadOnly, AccessKeyId string
		EventTime                                 float64
		EventSource, Username                     string
		Resources                                 []resource
		CloudTrailEvent                           string
	}
	out := struct {
		Events    []event
		NextToken *string `json:",omitempty"`
	}{Events: []event{}}
	for i := offset; i < len(match) && i < offset+limit; i++ {
		e := match[i]
		out.Events = append(out.Events, event{
			EventId: e.ID, EventName: e.Name, ReadOnly: strconv.FormatBool(e.ReadOnly), AccessKeyId: e.AccessKeyID,
			EventTime: float64(e.Time.Unix()), EventSource: e.Source, Username: e.User, Resources: []resource{},
			CloudTrailEvent: s.eventDocument(e),
		})
	}
	if offset+limit < len(match) {
		t := base64.StdEncoding.EncodeToString([]byte(query + "\x01" + strconv.Itoa(offset+limit)))
		out.NextToken = &t
	}
	return out, nil
}

func (e *Event) has(key, value string) bool {
	switch key {
	case "":
		return true
	case "AccessKeyId":
		return e.AccessKeyID == value
	case "EventId":
		return e.ID == value
	case "EventName":
		return e.Name == value
	case "EventSource":
		return e.Source == value
	case "ReadOnly":
		return strconv.FormatBool(e.ReadOnly) == value
	case "Username":
		return e.User == value
	}
	return false
}

// eventDocument is the event as CloudTrail records it (the
// CloudTrailEvent string of LookupEvents).
func (s *Server) eventDocument(e *Event) string {
	identity := map[string]any{"type": "IAMUser", "accountId": s.account, "accessKeyId": e.AccessKeyID, "userName": e.User,
		"arn": "arn:" + s.partition + ":iam::" + s.account + ":user/" + e.User}
	if e.User == "root" {
		identity = map[string]any{"type": "Root", "accountId": s.account, "accessKeyId": e.AccessKeyID, "arn": "arn:" + s.partition + ":iam::" + s.account + ":root"}
	}
	doc := map[string]any{
		"eventVersion": "1.08", "userIdentity": identity,
		"eventTime": isoTime(e.Time), "eventSource": e.Source, "eventName": e.Name, "awsRegion": e.Region,
		"sourceIPAddress": e.SourceIP, "userAgent": e.UserAgent, "eventID": e.ID, "readOnly": e.ReadOnly,
		"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": s.account,
	}
	if e.ErrorCode != "" {
		doc["errorCode"] = e.ErrorCode
	}
	if e.IssuedKeyID != "" {
		doc["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": e.IssuedKeyID}}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}
