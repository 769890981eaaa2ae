package awsjson

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// endpoint is where a client sends its requests and the region it signs
// for.
type endpoint struct {
	url           *url.URL
	signingRegion string
}

// partition is the part of the SDK's partitions.json the endpoints need.
type partition struct {
	id, dnsSuffix, dualStackSuffix, globalRegion string
}

// partitions in the SDK's order. A region belongs to the partition whose
// pseudo-region it is, else to the one whose shape it has (partitionOf),
// else to aws.
var partitions = [...]partition{
	{"aws", "amazonaws.com", "api.aws", "us-east-1"},
	{"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn", "cn-northwest-1"},
	{"aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu", "eusc-de-east-1"},
	{"aws-iso", "c2s.ic.gov", "api.aws.ic.gov", "us-iso-east-1"},
	{"aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud", "us-isob-east-1"},
	{"aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", "eu-isoe-west-1"},
	{"aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov", "us-isof-south-1"},
	{"aws-us-gov", "amazonaws.com", "api.aws", "us-gov-west-1"},
}

// partitionOf matches the partitions' regionRegex without regexps (keyrot
// compiles none at start-up): aws ^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$,
// aws-cn ^cn-\w+-\d+$, aws-eusc ^eusc-(de)-\w+-\d+$, the ISO ones
// ^us-iso-, ^us-isob-, ^eu-isoe-, ^us-isof-, aws-us-gov ^us-gov-\w+-\d+$.
// The SDK's listed regions all have these shapes, except the "-global"
// pseudo-regions, matched by name.
func partitionOf(region string) *partition {
	if strings.HasSuffix(region, "-global") {
		for i := range partitions {
			if region == partitions[i].id+"-global" {
				return &partitions[i]
			}
		}
	}
	parts := strings.Split(region, "-")
	id := ""
	switch {
	case len(parts) == 3 && isWord(parts[1]) && isDigits(parts[2]):
		switch parts[0] {
		case "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx":
			id = "aws"
		case "cn":
			id = "aws-cn"
		}
	case len(parts) == 4 && isWord(parts[2]) && isDigits(parts[3]):
		switch parts[0] + "-" + parts[1] {
		case "eusc-de":
			id = "aws-eusc"
		case "us-iso":
			id = "aws-iso"
		case "us-isob":
			id = "aws-iso-b"
		case "eu-isoe":
			id = "aws-iso-e"
		case "us-isof":
			id = "aws-iso-f"
		case "us-gov":
			id = "aws-us-gov"
		}
	}
	for i := range partitions {
		if partitions[i].id == id {
			return &partitions[i]
		}
	}
	return &partitions[0]
}

// PartitionID is the ID of region's partition (aws, aws-cn, aws-us-gov,
// ...), the partition of its ARNs.
func PartitionID(region string) string { return partitionOf(region).id }

func isWord(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// The config sources' providers, as the SDK's internal/configsources has
// them (config.EnvConfig and config.SharedConfig implement them).
type (
	serviceBaseEndpointProvider interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	ignoreConfiguredEndpointsProvider interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	useFIPSEndpointProvider interface {
		GetUseFIPSEndpoint(ctx context.Context) (aws.FIPSEndpointState, bool, error)
	}
	useDualStackEndpointProvider interface {
		GetUseDualStackEndpoint(ctx context.Context) (aws.DualStackEndpointState, bool, error)
	}
)

// resolveEndpoint resolves svc's endpoint in region in the SDK's order:
// the service's own configured endpoint (AWS_ENDPOINT_URL_<ID> or the
// shared config's services section; not when AWS_ENDPOINT_URL is set
// without AWS_ENDPOINT_URL_<ID>, nor when ignore_configured_endpoint_urls
// is on), then cfg.BaseEndpoint, then the partition's default, with FIPS
// and dual-stack from the config sources (or a FIPS pseudo-region such as
// fips-us-east-1).
func resolveEndpoint(ctx context.Context, cfg aws.Config, svc *Service, region string) (endpoint, error) {
	base := cfg.BaseEndpoint
	env := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(svc.ID, " ", "_"))
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, own := os.LookupEnv(env)
	if !global || own {
		if v, ok := serviceEndpoint(ctx, cfg.ConfigSources, svc.ID); ok {
			base = &v
		}
	}
	fips, dualStack := endpointModes(ctx, cfg.ConfigSources)

	if region != "" && !validRegion(region) {
		return endpoint{}, fmt.Errorf("failed to bind endpoint params, invalid input region %s", region)
	}
	mapped := region
	if strings.Contains(region, "-fips-") || strings.Contains(region, "fips-") || strings.Contains(region, "-fips") {
		mapped = strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(region, "-fips-", "-"), "fips-", ""), "-fips", "")
		fips = true
	}

	if base != nil {
		switch {
		case fips:
			return endpoint{}, errors.New("endpoint rule error, Invalid Configuration: FIPS and custom endpoint are not supported")
		case dualStack:
			return endpoint{}, errors.New("endpoint rule error, Invalid Configuration: Dualstack and custom endpoint are not supported")
		}
		u, err := url.Parse(*base)
		if err != nil {
			return endpoint{}, fmt.Errorf("failed to parse uri: %s", *base)
		}
		return endpoint{url: u, signingRegion: region}, nil
	}
	if mapped == "" {
		return endpoint{}, errors.New("endpoint rule error, Invalid Configuration: Missing Region")
	}
	p := partitionOf(mapped)
	signing, host := region, ""
	switch {
	case svc.Global:
		signing = p.globalRegion
		host = defaultHost(svc.Prefix, p, p.globalRegion, fips, dualStack)
	case svc.host != nil:
		host = svc.host(p, mapped, fips, dualStack)
	default:
		host = defaultHost(svc.Prefix, p, mapped, fips, dualStack)
	}
	return endpoint{url: &url.URL{Scheme: "https", Host: host}, signingRegion: signing}, nil
}

func serviceEndpoint(ctx context.Context, sources []any, sdkID string) (string, bool) {
	for _, s := range sources {
		if p, ok := s.(ignoreConfiguredEndpointsProvider); ok {
			v, found, err := p.GetIgnoreConfiguredEndpoints(ctx)
			if err != nil || found {
				if found && v {
					return "", false
				}
				break
			}
		}
	}
	for _, s := range sources {
		if p, ok := s.(serviceBaseEndpointProvider); ok {
			v, found, err := p.GetServiceBaseEndpoint(ctx, sdkID)
			if err != nil {
				return "", false
			}
			if found {
				return v, true
			}
		}
	}
	return "", false
}

func endpointModes(ctx context.Context, sources []any) (fips, dualStack bool) {
	for _, s := range sources {
		if p, ok := s.(useFIPSEndpointProvider); ok {
			v, found, err := p.GetUseFIPSEndpoint(ctx)
			if err != nil || found {
				fips = err == nil && v == aws.FIPSEndpointStateEnabled
				break
			}
		}
	}
	for _, s := range sources {
		if p, ok := s.(useDualStackEndpointProvider); ok {
			v, found, err := p.GetUseDualStackEndpoint(ctx)
			if err != nil || found {
				dualStack = err == nil && v == aws.DualStackEndpointStateEnabled
				break
			}
		}
	}
	return fips, dualStack
}

// validRegion is the rules' isValidHostLabel(Region, true).
func validRegion(region string) bool {
	for _, label := range strings.Split(region, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

// defaultHost is the rules' common case: prefix[-fips].region.suffix.
func defaultHost(prefix string, p *partition, region string, fips, dualStack bool) string {
	suffix := p.dnsSuffix
	if fips {
		prefix += "-fips"
	}
	if dualStack {
		suffix = p.dualStackSuffix
	}
	return prefix + "." + region + "." + suffix
}

// ssmHost: SSM's FIPS endpoints in GovCloud are its plain ones.
func ssmHost(p *partition, region string, fips, dualStack bool) string {
	if fips && !dualStack && p.id == "aws-us-gov" {
		return "ssm." + region + ".amazonaws.com"
	}
	return defaultHost("ssm", p, region, fips, dualStack)
}

// secretsManagerHost: Secrets Manager's endpoints in aws and aws-us-gov
// are dual-stack already; in aws-cn the non-FIPS one is.
func secretsManagerHost(p *partition, region string, fips, dualStack bool) string {
	if dualStack && (p.id == "aws" || p.id == "aws-us-gov" || p.id == "aws-cn" && !fips) {
		dualStack = false
	}
	return defaultHost("secretsmanager", p, region, fips, dualStack)
}

// cloudTrailHost: CloudTrail's FIPS endpoints in the two GovCloud regions
// are its plain ones.
func cloudTrailHost(p *partition, region string, fips, dualStack bool) string {
	if fips && !dualStack && (region == "us-gov-east-1" || region == "us-gov-west-1") {
		return "cloudtrail." + region + ".amazonaws.com"
	}
	return defaultHost("cloudtrail", p, region, fips, dualStack)
}
