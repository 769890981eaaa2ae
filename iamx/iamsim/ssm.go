package iamsim

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file is SSM Parameter Store (AWS JSON 1.1, X-Amz-Target
// AmazonSSM.*): PutParameter, GetParameter, GetParameterHistory and
// DeleteParameter. Every write is a new version, numbered from 1; a
// SecureString's value comes back only WithDecryption. Parameters are
// regional.

type ssmParam struct {
	name, region string
	versions     []ssmVersion // oldest first
}

type ssmVersion struct {
	value, typ, keyID string
	version           int
	modified          time.Time
}

// maxParamVersions is how many versions Parameter Store keeps.
const maxParamVersions = 100

// Parameter is an SSM parameter as the simulator holds it, for tests.
type Parameter struct {
	Name, Type, KeyID, Value string
	Version                  int
}

// ParameterValue returns the parameter name in region ("" is us-east-1).
func (s *Server) ParameterValue(region, name string) (Parameter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.params[cmpRegion(region)+"\x00"+name]
	if p == nil {
		return Parameter{}, false
	}
	v := p.versions[len(p.versions)-1]
	return Parameter{Name: p.name, Type: v.typ, KeyID: v.keyID, Value: v.value, Version: v.version}, true
}

// PutParameter writes a parameter directly, as if another tool had.
func (s *Server) PutParameter(region, name, typ, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putParamLocked(cmpRegion(region), name, typ, "", value)
}

func cmpRegion(r string) string {
	if r == "" {
		return "us-east-1"
	}
	return r
}

func (s *Server) putParamLocked(region, name, typ, keyID, value string) int {
	if s.params == nil {
		s.params = map[string]*ssmParam{}
	}
	p := s.params[region+"\x00"+name]
	if p == nil {
		p = &ssmParam{name: name, region: region}
		s.params[region+"\x00"+name] = p
	}
	n := 1
	if len(p.versions) > 0 {
		n = p.versions[len(p.versions)-1].version + 1
	}
	p.versions = append(p.versions, ssmVersion{value: value, typ: typ, keyID: keyID, version: n, modified: s.clock()})
	if len(p.versions) > maxParamVersions {
		p.versions = p.versions[1:]
	}
	return n
}

func paramNotFound(name string) *apiError {
	return errf("ParameterNotFound", "Parameter %s not found.", name)
}

// validParamName applies Parameter Store's naming rule.
func validParamName(name string) *apiError {
	if name == "" || len(name) > 2048 {
		return errf("ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length between 1 and 2048")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.-/", c)) {
			return errf("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
		}
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return errf("ValidationException", "Parameter name must be a fully qualified name.")
	}
	return nil
}

func (s *Server) ssmPutParameter(req *request) (any, *apiError) {
	var in struct {
		Name, Value, Type, KeyId, Description string
		Overwrite                             bool
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if e := validParamName(in.Name); e != nil {
		return nil, e
	}
	if in.Value == "" || len(in.Value) > 4096 {
		return nil, errf("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and 4096")
	}
	region := smRegion(req)
	p := s.params[region+"\x00"+in.Name]
	if p != nil && !in.Overwrite {
		return nil, errf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	typ := in.Type
	if typ == "" && p != nil {
		typ = p.versions[len(p.versions)-1].typ
	}
	switch typ {
	case "String", "StringList", "SecureString":
	case "":
		return nil, errf("ValidationException", "A parameter type is required when you create a parameter.")
	default:
		return nil, errf("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", typ)
	}
	keyID := in.KeyId
	if typ == "SecureString" && keyID == "" {
		keyID = "alias/aws/ssm"
	}
	n := s.putParamLocked(region, in.Name, typ, keyID, in.Value)
	return map[string]any{"Version": n, "Tier": "Standard"}, nil
}

// paramValue is what GetParameter shows of a version: a SecureString's
// value only decrypted.
func paramValue(v ssmVersion, decrypt bool) string {
	if v.typ == "SecureString" && !decrypt {
		return "AQICAHh" + strconv.Itoa(len(v.value)) + "encrypted"
	}
	return v.value
}

func (s *Server) ssmGetParameter(req *request) (any, *apiError) {
	var in struct {
		Name           string
		WithDecryption bool
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	name, sel, _ := strings.Cut(in.Name, ":")
	p := s.params[smRegion(req)+"\x00"+name]
	if p == nil {
		return nil, paramNotFound(in.Name)
	}
	v := p.versions[len(p.versions)-1]
	if sel != "" {
		n, err := strconv.Atoi(sel)
		found := false
		for _, x := range p.versions {
			if err == nil && x.version == n {
				v, found = x, true
			}
		}
		if !found {
			return nil, errf("ParameterVersionNotFound", "Systems Manager could not find version %s of %s.", sel, name)
		}
	}
	return map[string]any{"Parameter": map[string]any{
		"Name": p.name, "Type": v.typ, "Value": paramValue(v, in.WithDecryption), "Version": v.version,
		"LastModifiedDate": jsonTime(v.modified), "DataType": "text",
		"ARN": fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", s.partition, p.region, s.account, strings.TrimPrefix(p.name, "/")),
	}}, nil
}

func (s *Server) ssmGetParameterHistory(req *request) (any, *apiError) {
	var in struct {
		Name           string
		WithDecryption bool
		MaxResults     int
		NextToken      string
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	p := s.params[smRegion(req)+"\x00"+in.Name]
	if p == nil {
		return nil, paramNotFound(in.Name)
	}
	limit := cmp.Or(in.MaxResults, 50)
	if limit < 1 || limit > 50 {
		return nil, errf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", limit)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(p.versions) {
			return nil, errf("InvalidNextToken", "The specified token isn't valid.")
		}
		start = n
	}
	end := min(start+limit, len(p.versions))
	out := []map[string]any{}
	for _, v := range p.versions[start:end] {
		m := map[string]any{"Name": p.name, "Type": v.typ, "Value": paramValue(v, in.WithDecryption), "Version": v.version,
			"LastModifiedDate": jsonTime(v.modified), "Labels": []string{}, "Tier": "Standard", "DataType": "text"}
		if v.keyID != "" {
			m["KeyId"] = v.keyID
		}
		out = append(out, m)
	}
	doc := map[string]any{"Parameters": out}
	if end < len(p.versions) {
		doc["NextToken"] = strconv.Itoa(end)
	}
	return doc, nil
}

func (s *Server) ssmDeleteParameter(req *request) (any, *apiError) {
	var in struct{ Name string }
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	k := smRegion(req) + "\x00" + in.Name
	if s.params[k] == nil {
		return nil, paramNotFound(in.Name)
	}
	delete(s.params, k)
	return map[string]any{}, nil
}
