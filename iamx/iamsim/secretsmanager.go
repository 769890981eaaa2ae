package iamsim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is AWS Secrets Manager (AWS JSON 1.1, X-Amz-Target
// secretsmanager.*): CreateSecret, PutSecretValue, GetSecretValue,
// DescribeSecret, ListSecretVersionIds, UpdateSecretVersionStage and
// DeleteSecret, with AWS's staging labels (a new value becomes AWSCURRENT,
// the one before AWSPREVIOUS), ClientRequestToken idempotency, and
// deletion that marks the secret for deletion unless forced. Secrets are
// regional: each region holds its own.

type smSecret struct {
	name, arn, region, kmsKeyID string
	created                     time.Time
	deleted                     time.Time // scheduled deletion; zero while live
	versions                    []*smVersion
}

type smVersion struct {
	id      string
	value   string
	created time.Time
	stages  []string
}

const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// Secret is a Secrets Manager secret as the simulator holds it, for tests.
type Secret struct {
	Name, ARN, KmsKeyID string
	Deleted             bool // marked for deletion
	// Current and Previous are the values staged AWSCURRENT and
	// AWSPREVIOUS ("" when no version holds the label).
	Current, Previous string
	Versions          int
}

// SecretValue returns the secret named name (or ARN) in region ("" is
// us-east-1), and whether it exists.
func (s *Server) SecretValue(region, name string) (Secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if region == "" {
		region = "us-east-1"
	}
	sec := s.findSecretLocked(region, name)
	if sec == nil {
		return Secret{}, false
	}
	out := Secret{Name: sec.name, ARN: sec.arn, KmsKeyID: sec.kmsKeyID, Deleted: !sec.deleted.IsZero(), Versions: len(sec.versions)}
	if v := sec.staged(stageCurrent); v != nil {
		out.Current = v.value
	}
	if v := sec.staged(stagePrevious); v != nil {
		out.Previous = v.value
	}
	return out, true
}

// PutSecret creates or updates a secret directly, as if written by
// another tool.
func (s *Server) PutSecret(region, name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if region == "" {
		region = "us-east-1"
	}
	sec := s.findSecretLocked(region, name)
	if sec == nil {
		sec = s.newSecretLocked(region, name, "")
	}
	s.putVersionLocked(sec, "", value)
}

func (sec *smSecret) staged(stage string) *smVersion {
	for _, v := range sec.versions {
		if slices.Contains(v.stages, stage) {
			return v
		}
	}
	return nil
}

func (sec *smSecret) version(id string) *smVersion {
	for _, v := range sec.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (s *Server) findSecretLocked(region, id string) *smSecret {
	for _, sec := range s.secrets {
		if sec.region == region && (sec.name == id || sec.arn == id) {
			return sec
		}
	}
	return nil
}

func (s *Server) newSecretLocked(region, name, kms string) *smSecret {
	s.secretCtr++
	suffix := strings.ToUpper(fmt.Sprintf("%x", digest(fmt.Sprintf("iamsim/secret/%s/%d", name, s.secretCtr))[:3]))
	sec := &smSecret{name: name, region: region, kmsKeyID: kms, created: s.clock(),
		arn: fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-%s", s.partition, region, s.account, name, suffix[:6])}
	s.secrets = append(s.secrets, sec)
	return sec
}

// putVersionLocked adds a version staged AWSCURRENT; the version that was
// AWSCURRENT becomes AWSPREVIOUS.
func (s *Server) putVersionLocked(sec *smSecret, token, value string) *smVersion {
	if token == "" {
		s.secretCtr++
		token = requestID(1<<41 + s.secretCtr)
	}
	v := &smVersion{id: token, value: value, created: s.clock()}
	s.moveStageLocked(sec, stageCurrent, v)
	sec.versions = append(sec.versions, v)
	return v
}

// moveStageLocked attaches stage to v, taking it from the version that had
// it; moving AWSCURRENT moves AWSPREVIOUS to the version it left, as AWS
// does.
func (s *Server) moveStageLocked(sec *smSecret, stage string, v *smVersion) {
	old := sec.staged(stage)
	if old == v {
		return
	}
	if old != nil {
		old.stages = slices.DeleteFunc(old.stages, func(x string) bool { return x == stage })
	}
	if stage == stageCurrent && old != nil {
		if p := sec.staged(stagePrevious); p != nil {
			p.stages = slices.DeleteFunc(p.stages, func(x string) bool { return x == stagePrevious })
		}
		old.stages = append(old.stages, stagePrevious)
	}
	if v != nil {
		v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == stagePrevious && stage == stageCurrent })
		v.stages = append(v.stages, stage)
	}
	// A version with no label is deprecated but kept, up to AWS's 100
	// versions a secret; beyond that the oldest deprecated one goes.
	if len(sec.versions) > maxSecretVersions {
		if i := slices.IndexFunc(sec.versions, func(x *smVersion) bool { return len(x.stages) == 0 && x != v }); i >= 0 {
			sec.versions = slices.Delete(sec.versions, i, i+1)
		}
	}
}

// maxSecretVersions is how many versions a secret keeps.
const maxSecretVersions = 100

func smRegion(req *request) string {
	if r := req.who.region; r != "" {
		return r
	}
	return "us-east-1"
}

func smNotFound() *apiError {
	return errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// liveSecretLocked finds the secret a request names, refusing one marked
// for deletion as AWS does.
func (s *Server) liveSecretLocked(req *request, id string) (*smSecret, *apiError) {
	if id == "" {
		return nil, errf("InvalidParameterException", "You must provide a SecretId.")
	}
	sec := s.findSecretLocked(smRegion(req), id)
	if sec == nil {
		return nil, smNotFound()
	}
	if !sec.deleted.IsZero() {
		return nil, errf("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	return sec, nil
}

func validToken(t string) *apiError {
	if t != "" && (len(t) < 32 || len(t) > 64) {
		return errf("InvalidParameterException", "ClientRequestToken must be between 32 and 64 characters.")
	}
	return nil
}

func (s *Server) smCreateSecret(req *request) (any, *apiError) {
	var in struct {
		Name, SecretString, KmsKeyId, ClientRequestToken, Description string
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if in.Name == "" || len(in.Name) > 512 {
		return nil, errf("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if e := validToken(in.ClientRequestToken); e != nil {
		return nil, e
	}
	region := smRegion(req)
	if sec := s.findSecretLocked(region, in.Name); sec != nil {
		if !sec.deleted.IsZero() {
			return nil, errf("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		if v := sec.version(in.ClientRequestToken); v != nil && in.ClientRequestToken != "" && v.value == in.SecretString {
			return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id}, nil
		}
		return nil, errf("ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
	}
	sec := s.newSecretLocked(region, in.Name, in.KmsKeyId)
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if in.SecretString != "" {
		out["VersionId"] = s.putVersionLocked(sec, in.ClientRequestToken, in.SecretString).id
	}
	return out, nil
}

func (s *Server) smPutSecretValue(req *request) (any, *apiError) {
	var in struct {
		SecretId, SecretString, ClientRequestToken string
		VersionStages                              []string
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if e := validToken(in.ClientRequestToken); e != nil {
		return nil, e
	}
	sec, e := s.liveSecretLocked(req, in.SecretId)
	if e != nil {
		return nil, e
	}
	if in.SecretString == "" {
		return nil, errf("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	}
	if v := sec.version(in.ClientRequestToken); v != nil && in.ClientRequestToken != "" {
		if v.value != in.SecretString {
			return nil, errf("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
		}
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": v.stages}, nil
	}
	if len(in.VersionStages) > 0 && !slices.Equal(in.VersionStages, []string{stageCurrent}) {
		return nil, errf("InvalidParameterException", "the simulator stages new versions AWSCURRENT only")
	}
	v := s.putVersionLocked(sec, in.ClientRequestToken, in.SecretString)
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "VersionStages": v.stages}, nil
}

func (s *Server) smGetSecretValue(req *request) (any, *apiError) {
	var in struct{ SecretId, VersionId, VersionStage string }
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	sec, e := s.liveSecretLocked(req, in.SecretId)
	if e != nil {
		return nil, e
	}
	var v *smVersion
	switch {
	case in.VersionId != "":
		v = sec.version(in.VersionId)
		if v != nil && in.VersionStage != "" && !slices.Contains(v.stages, in.VersionStage) {
			v = nil
		}
	case in.VersionStage != "":
		v = sec.staged(in.VersionStage)
	default:
		v = sec.staged(stageCurrent)
	}
	if v == nil {
		return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", cmp.Or(in.VersionStage, stageCurrent))
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "SecretString": v.value,
		"VersionStages": v.stages, "CreatedDate": jsonTime(v.created)}, nil
}

func (s *Server) smDescribeSecret(req *request) (any, *apiError) {
	var in struct{ SecretId string }
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	if in.SecretId == "" {
		return nil, errf("InvalidParameterException", "You must provide a SecretId.")
	}
	sec := s.findSecretLocked(smRegion(req), in.SecretId)
	if sec == nil {
		return nil, smNotFound()
	}
	stages := map[string][]string{}
	for _, v := range sec.versions {
		stages[v.id] = v.stages
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "CreatedDate": jsonTime(sec.created), "VersionIdsToStages": stages}
	if sec.kmsKeyID != "" {
		out["KmsKeyId"] = sec.kmsKeyID
	}
	if !sec.deleted.IsZero() {
		out["DeletedDate"] = jsonTime(sec.deleted)
	}
	return out, nil
}

func (s *Server) smListSecretVersionIds(req *request) (any, *apiError) {
	var in struct{ SecretId string }
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	sec, e := s.liveSecretLocked(req, in.SecretId)
	if e != nil {
		return nil, e
	}
	vs := []map[string]any{}
	for _, v := range sec.versions {
		vs = append(vs, map[string]any{"VersionId": v.id, "VersionStages": v.stages, "CreatedDate": jsonTime(v.created)})
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "Versions": vs}, nil
}

func (s *Server) smUpdateSecretVersionStage(req *request) (any, *apiError) {
	var in struct{ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId string }
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	sec, e := s.liveSecretLocked(req, in.SecretId)
	if e != nil {
		return nil, e
	}
	if in.VersionStage == "" {
		return nil, errf("InvalidParameterException", "You must provide a VersionStage.")
	}
	holder := sec.staged(in.VersionStage)
	var to *smVersion
	if in.MoveToVersionId != "" {
		if to = sec.version(in.MoveToVersionId); to == nil {
			return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret version: %s", in.MoveToVersionId)
		}
	}
	if holder != nil && holder != to && holder.id != in.RemoveFromVersionId {
		return nil, errf("InvalidParameterException", "The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", in.VersionStage, holder.id)
	}
	if to == nil && in.VersionStage == stageCurrent {
		return nil, errf("InvalidParameterException", "You can't remove the staging label AWSCURRENT from a version without moving it to another.")
	}
	s.moveStageLocked(sec, in.VersionStage, to)
	return map[string]any{"ARN": sec.arn, "Name": sec.name}, nil
}

func (s *Server) smDeleteSecret(req *request) (any, *apiError) {
	var in struct {
		SecretId                   string
		ForceDeleteWithoutRecovery bool
		RecoveryWindowInDays       int
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	sec, e := s.liveSecretLocked(req, in.SecretId)
	if e != nil {
		return nil, e
	}
	if in.ForceDeleteWithoutRecovery && in.RecoveryWindowInDays != 0 {
		return nil, errf("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := cmp.Or(in.RecoveryWindowInDays, 30)
	if days < 7 || days > 30 {
		return nil, errf("InvalidParameterException", "RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	when := s.clock().Add(time.Duration(days) * 24 * time.Hour)
	if in.ForceDeleteWithoutRecovery {
		when = s.clock()
		s.secrets = slices.DeleteFunc(s.secrets, func(x *smSecret) bool { return x == sec })
	} else {
		sec.deleted = s.clock()
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "DeletionDate": jsonTime(when)}, nil
}

// jsonTime is a JSON 1.1 timestamp: seconds since 1970 as a number.
func jsonTime(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
