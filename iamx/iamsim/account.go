package iamsim

import (
	"slices"
	"strconv"
)

// This file serves the Account service's ListRegions (REST-JSON), which
// tells which regions are enabled for the account.

// Region opt-in statuses as the Account service spells them.
const (
	RegionEnabledByDefault = "ENABLED_BY_DEFAULT"
	RegionEnabled          = "ENABLED"
	RegionDisabled         = "DISABLED"
)

// Region is one region and its opt-in status for the account.
type Region struct {
	Name   string
	Status string
}

// defaultRegions: regions enabled by default, one opted into, and two
// opt-in regions left disabled.
func defaultRegions() []Region {
	var rs []Region
	for _, n := range []string{"ap-northeast-1", "eu-central-1", "eu-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"} {
		rs = append(rs, Region{n, RegionEnabledByDefault})
	}
	return append(rs, Region{"eu-south-1", RegionEnabled}, Region{"ap-east-1", RegionDisabled}, Region{"me-south-1", RegionDisabled})
}

// Regions sets the account's regions and their opt-in statuses, as
// ListRegions reports them and as CloudTrail keeps events per region.
func Regions(rs ...Region) Option {
	return func(s *Server) { s.regions = slices.Clone(rs) }
}

func (s *Server) listRegions(req *request) (any, *apiError) {
	var in struct {
		RegionOptStatusContains []string
		MaxResults              *int
		NextToken               *string
	}
	if e := decodeJSON(req.body, &in); e != nil {
		return nil, e
	}
	limit := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, errf("ValidationException", "maxResults must be between 1 and 50")
		}
		limit = *in.MaxResults
	}
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n > len(s.regions) {
			return nil, errf("ValidationException", "Invalid nextToken")
		}
		start = n
	}
	sorted := slices.Clone(s.regions)
	slices.SortFunc(sorted, func(a, b Region) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	type region struct{ RegionName, RegionOptStatus string }
	out := struct {
		Regions   []region
		NextToken *string `json:",omitempty"`
	}{Regions: []region{}}
	for i := start; i < len(sorted); i++ {
		r := sorted[i]
		if len(in.RegionOptStatusContains) > 0 && !slices.Contains(in.RegionOptStatusContains, r.Status) {
			continue
		}
		if len(out.Regions) == limit {
			next := strconv.Itoa(i)
			out.NextToken = &next
			break
		}
		out.Regions = append(out.Regions, region{r.Name, r.Status})
	}
	return out, nil
}
