package cmd

import (
	"bufio"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// partitionRegions are the regions of each AWS partition, as the SDK's
// endpoint rules (aws-sdk-go-v2 v1.48.0, internal/endpoints/awsrulesfn/
// partitions.json) list them; --region completes from the partition of
// the region configured. A slice, not a map: it is laid out at build time, where a map would be
// built at every start.
var partitionRegions = []struct {
	partition string
	regions   []string
}{
	{"aws", []string{"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"}},
	{"aws-cn", []string{"cn-north-1", "cn-northwest-1"}},
	{"aws-eusc", []string{"eusc-de-east-1"}},
	{"aws-iso", []string{"us-iso-east-1", "us-iso-west-1"}},
	{"aws-iso-b", []string{"us-isob-east-1", "us-isob-west-1"}},
	{"aws-iso-e", []string{"eu-isoe-west-1"}},
	{"aws-iso-f", []string{"us-isof-east-1", "us-isof-south-1"}},
	{"aws-us-gov", []string{"us-gov-east-1", "us-gov-west-1"}},
}

// partitionOf names the partition of a region by its prefix.
func partitionOf(region string) string {
	for _, p := range partitionRegions {
		if slices.Contains(p.regions, region) {
			return p.partition
		}
	}
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// completeRegions offers the regions of the configured region's partition.
func completeRegions(f *Factory) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		region := f.Global.Region
		if region == "" {
			region = os.Getenv("AWS_REGION")
		}
		if region == "" {
			region = os.Getenv("AWS_DEFAULT_REGION")
		}
		return regionsOf(partitionOf(region)), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeProfiles offers the profile names of the shared config and
// credentials files.
func completeProfiles(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	home, _ := os.UserHomeDir()
	config := os.Getenv("AWS_CONFIG_FILE")
	if config == "" && home != "" {
		config = filepath.Join(home, ".aws", "config")
	}
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" && home != "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	seen := map[string]bool{}
	for _, file := range []struct {
		path   string
		config bool
	}{{config, true}, {creds, false}} {
		fh, err := os.Open(file.path)
		if err != nil {
			continue
		}
		for _, n := range profileNames(fh, file.config) {
			seen[n] = true
		}
		fh.Close()
	}
	return slices.Sorted(maps.Keys(seen)), cobra.ShellCompDirectiveNoFileComp
}

// profileNames lists the profiles a shared file defines: in the config
// file [default] and [profile NAME] (not [sso-session ...] or
// [services ...]), in the credentials file every [NAME].
func profileNames(r io.Reader, config bool) []string {
	var out []string
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
			continue
		}
		fields := strings.Fields(strings.Trim(line, "[]"))
		switch {
		case len(fields) == 1 && (!config || fields[0] == "default"):
			out = append(out, fields[0])
		case config && len(fields) == 2 && fields[0] == "profile":
			out = append(out, fields[1])
		}
	}
	return out
}

// regionsOf lists the regions of a partition.
func regionsOf(partition string) []string {
	for _, p := range partitionRegions {
		if p.partition == partition {
			return p.regions
		}
	}
	return nil
}
