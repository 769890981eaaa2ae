package awsjson

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// sdkEndpoints is what the SDK's own clients (service/ssm v1.83.0,
// secretsmanager v1.51.0, cloudtrail v1.56.0, account v1.32.0) sent for
// one call in each region, FIPS and dual-stack setting: URL, then the
// credential scope's region and service. Recorded through an HTTP client
// that captured the requests; the rows cover every partition, the
// pseudo-regions and the services' quirks (SSM's and CloudTrail's GovCloud
// FIPS hosts, Secrets Manager's dual-stack hosts, Account's global region).
var sdkEndpoints = []struct {
	region          string
	fips, dualStack bool
	want            [4]string // SSM, Secrets Manager, CloudTrail, Account
}{
	{"us-east-1", false, false, [4]string{"https://ssm.us-east-1.amazonaws.com/ us-east-1/ssm", "https://secretsmanager.us-east-1.amazonaws.com/ us-east-1/secretsmanager", "https://cloudtrail.us-east-1.amazonaws.com/ us-east-1/cloudtrail", "https://account.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"us-east-1", true, false, [4]string{"https://ssm-fips.us-east-1.amazonaws.com/ us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.amazonaws.com/ us-east-1/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"us-east-1", false, true, [4]string{"https://ssm.us-east-1.api.aws/ us-east-1/ssm", "https://secretsmanager.us-east-1.amazonaws.com/ us-east-1/secretsmanager", "https://cloudtrail.us-east-1.api.aws/ us-east-1/cloudtrail", "https://account.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"us-east-1", true, true, [4]string{"https://ssm-fips.us-east-1.api.aws/ us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.api.aws/ us-east-1/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"eu-west-1", false, false, [4]string{"https://ssm.eu-west-1.amazonaws.com/ eu-west-1/ssm", "https://secretsmanager.eu-west-1.amazonaws.com/ eu-west-1/secretsmanager", "https://cloudtrail.eu-west-1.amazonaws.com/ eu-west-1/cloudtrail", "https://account.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"eu-west-1", true, false, [4]string{"https://ssm-fips.eu-west-1.amazonaws.com/ eu-west-1/ssm", "https://secretsmanager-fips.eu-west-1.amazonaws.com/ eu-west-1/secretsmanager", "https://cloudtrail-fips.eu-west-1.amazonaws.com/ eu-west-1/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"eu-west-1", false, true, [4]string{"https://ssm.eu-west-1.api.aws/ eu-west-1/ssm", "https://secretsmanager.eu-west-1.amazonaws.com/ eu-west-1/secretsmanager", "https://cloudtrail.eu-west-1.api.aws/ eu-west-1/cloudtrail", "https://account.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"eu-west-1", true, true, [4]string{"https://ssm-fips.eu-west-1.api.aws/ eu-west-1/ssm", "https://secretsmanager-fips.eu-west-1.amazonaws.com/ eu-west-1/secretsmanager", "https://cloudtrail-fips.eu-west-1.api.aws/ eu-west-1/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"us-gov-west-1", false, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ us-gov-west-1/ssm", "https://secretsmanager.us-gov-west-1.amazonaws.com/ us-gov-west-1/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ us-gov-west-1/cloudtrail", "https://account.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1", true, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1", false, true, [4]string{"https://ssm.us-gov-west-1.api.aws/ us-gov-west-1/ssm", "https://secretsmanager.us-gov-west-1.amazonaws.com/ us-gov-west-1/secretsmanager", "https://cloudtrail.us-gov-west-1.api.aws/ us-gov-west-1/cloudtrail", "https://account.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1", true, true, [4]string{"https://ssm-fips.us-gov-west-1.api.aws/ us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1/secretsmanager", "https://cloudtrail-fips.us-gov-west-1.api.aws/ us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"us-gov-east-1", false, false, [4]string{"https://ssm.us-gov-east-1.amazonaws.com/ us-gov-east-1/ssm", "https://secretsmanager.us-gov-east-1.amazonaws.com/ us-gov-east-1/secretsmanager", "https://cloudtrail.us-gov-east-1.amazonaws.com/ us-gov-east-1/cloudtrail", "https://account.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-east-1", true, false, [4]string{"https://ssm.us-gov-east-1.amazonaws.com/ us-gov-east-1/ssm", "https://secretsmanager-fips.us-gov-east-1.amazonaws.com/ us-gov-east-1/secretsmanager", "https://cloudtrail.us-gov-east-1.amazonaws.com/ us-gov-east-1/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-east-1", false, true, [4]string{"https://ssm.us-gov-east-1.api.aws/ us-gov-east-1/ssm", "https://secretsmanager.us-gov-east-1.amazonaws.com/ us-gov-east-1/secretsmanager", "https://cloudtrail.us-gov-east-1.api.aws/ us-gov-east-1/cloudtrail", "https://account.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"us-gov-east-1", true, true, [4]string{"https://ssm-fips.us-gov-east-1.api.aws/ us-gov-east-1/ssm", "https://secretsmanager-fips.us-gov-east-1.amazonaws.com/ us-gov-east-1/secretsmanager", "https://cloudtrail-fips.us-gov-east-1.api.aws/ us-gov-east-1/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"cn-north-1", false, false, [4]string{"https://ssm.cn-north-1.amazonaws.com.cn/ cn-north-1/ssm", "https://secretsmanager.cn-north-1.amazonaws.com.cn/ cn-north-1/secretsmanager", "https://cloudtrail.cn-north-1.amazonaws.com.cn/ cn-north-1/cloudtrail", "https://account.cn-northwest-1.amazonaws.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-north-1", true, false, [4]string{"https://ssm-fips.cn-north-1.amazonaws.com.cn/ cn-north-1/ssm", "https://secretsmanager-fips.cn-north-1.amazonaws.com.cn/ cn-north-1/secretsmanager", "https://cloudtrail-fips.cn-north-1.amazonaws.com.cn/ cn-north-1/cloudtrail", "https://account-fips.cn-northwest-1.amazonaws.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-north-1", false, true, [4]string{"https://ssm.cn-north-1.api.amazonwebservices.com.cn/ cn-north-1/ssm", "https://secretsmanager.cn-north-1.amazonaws.com.cn/ cn-north-1/secretsmanager", "https://cloudtrail.cn-north-1.api.amazonwebservices.com.cn/ cn-north-1/cloudtrail", "https://account.cn-northwest-1.api.amazonwebservices.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-north-1", true, true, [4]string{"https://ssm-fips.cn-north-1.api.amazonwebservices.com.cn/ cn-north-1/ssm", "https://secretsmanager-fips.cn-north-1.api.amazonwebservices.com.cn/ cn-north-1/secretsmanager", "https://cloudtrail-fips.cn-north-1.api.amazonwebservices.com.cn/ cn-north-1/cloudtrail", "https://account-fips.cn-northwest-1.api.amazonwebservices.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-northwest-1", false, false, [4]string{"https://ssm.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/ssm", "https://secretsmanager.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/secretsmanager", "https://cloudtrail.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/cloudtrail", "https://account.cn-northwest-1.amazonaws.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-northwest-1", true, false, [4]string{"https://ssm-fips.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/ssm", "https://secretsmanager-fips.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/secretsmanager", "https://cloudtrail-fips.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/cloudtrail", "https://account-fips.cn-northwest-1.amazonaws.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-northwest-1", false, true, [4]string{"https://ssm.cn-northwest-1.api.amazonwebservices.com.cn/ cn-northwest-1/ssm", "https://secretsmanager.cn-northwest-1.amazonaws.com.cn/ cn-northwest-1/secretsmanager", "https://cloudtrail.cn-northwest-1.api.amazonwebservices.com.cn/ cn-northwest-1/cloudtrail", "https://account.cn-northwest-1.api.amazonwebservices.com.cn/listRegions cn-northwest-1/account"}},
	{"cn-northwest-1", true, true, [4]string{"https://ssm-fips.cn-northwest-1.api.amazonwebservices.com.cn/ cn-northwest-1/ssm", "https://secretsmanager-fips.cn-northwest-1.api.amazonwebservices.com.cn/ cn-northwest-1/secretsmanager", "https://cloudtrail-fips.cn-northwest-1.api.amazonwebservices.com.cn/ cn-northwest-1/cloudtrail", "https://account-fips.cn-northwest-1.api.amazonwebservices.com.cn/listRegions cn-northwest-1/account"}},
	{"us-iso-east-1", false, false, [4]string{"https://ssm.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/ssm", "https://secretsmanager.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/secretsmanager", "https://cloudtrail.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/cloudtrail", "https://account.us-iso-east-1.c2s.ic.gov/listRegions us-iso-east-1/account"}},
	{"us-iso-east-1", true, false, [4]string{"https://ssm-fips.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/ssm", "https://secretsmanager-fips.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/secretsmanager", "https://cloudtrail-fips.us-iso-east-1.c2s.ic.gov/ us-iso-east-1/cloudtrail", "https://account-fips.us-iso-east-1.c2s.ic.gov/listRegions us-iso-east-1/account"}},
	{"us-iso-east-1", false, true, [4]string{"https://ssm.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/ssm", "https://secretsmanager.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/secretsmanager", "https://cloudtrail.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/cloudtrail", "https://account.us-iso-east-1.api.aws.ic.gov/listRegions us-iso-east-1/account"}},
	{"us-iso-east-1", true, true, [4]string{"https://ssm-fips.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/ssm", "https://secretsmanager-fips.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/secretsmanager", "https://cloudtrail-fips.us-iso-east-1.api.aws.ic.gov/ us-iso-east-1/cloudtrail", "https://account-fips.us-iso-east-1.api.aws.ic.gov/listRegions us-iso-east-1/account"}},
	{"us-isob-east-1", false, false, [4]string{"https://ssm.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/ssm", "https://secretsmanager.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/secretsmanager", "https://cloudtrail.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/cloudtrail", "https://account.us-isob-east-1.sc2s.sgov.gov/listRegions us-isob-east-1/account"}},
	{"us-isob-east-1", true, false, [4]string{"https://ssm-fips.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/ssm", "https://secretsmanager-fips.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/secretsmanager", "https://cloudtrail-fips.us-isob-east-1.sc2s.sgov.gov/ us-isob-east-1/cloudtrail", "https://account-fips.us-isob-east-1.sc2s.sgov.gov/listRegions us-isob-east-1/account"}},
	{"us-isob-east-1", false, true, [4]string{"https://ssm.us-isob-east-1.api.aws.scloud/ us-isob-east-1/ssm", "https://secretsmanager.us-isob-east-1.api.aws.scloud/ us-isob-east-1/secretsmanager", "https://cloudtrail.us-isob-east-1.api.aws.scloud/ us-isob-east-1/cloudtrail", "https://account.us-isob-east-1.api.aws.scloud/listRegions us-isob-east-1/account"}},
	{"us-isob-east-1", true, true, [4]string{"https://ssm-fips.us-isob-east-1.api.aws.scloud/ us-isob-east-1/ssm", "https://secretsmanager-fips.us-isob-east-1.api.aws.scloud/ us-isob-east-1/secretsmanager", "https://cloudtrail-fips.us-isob-east-1.api.aws.scloud/ us-isob-east-1/cloudtrail", "https://account-fips.us-isob-east-1.api.aws.scloud/listRegions us-isob-east-1/account"}},
	{"eu-isoe-west-1", false, false, [4]string{"https://ssm.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/ssm", "https://secretsmanager.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/secretsmanager", "https://cloudtrail.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/cloudtrail", "https://account.eu-isoe-west-1.cloud.adc-e.uk/listRegions eu-isoe-west-1/account"}},
	{"eu-isoe-west-1", true, false, [4]string{"https://ssm-fips.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/ssm", "https://secretsmanager-fips.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/secretsmanager", "https://cloudtrail-fips.eu-isoe-west-1.cloud.adc-e.uk/ eu-isoe-west-1/cloudtrail", "https://account-fips.eu-isoe-west-1.cloud.adc-e.uk/listRegions eu-isoe-west-1/account"}},
	{"eu-isoe-west-1", false, true, [4]string{"https://ssm.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/ssm", "https://secretsmanager.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/secretsmanager", "https://cloudtrail.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/cloudtrail", "https://account.eu-isoe-west-1.api.cloud-aws.adc-e.uk/listRegions eu-isoe-west-1/account"}},
	{"eu-isoe-west-1", true, true, [4]string{"https://ssm-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/ssm", "https://secretsmanager-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/secretsmanager", "https://cloudtrail-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk/ eu-isoe-west-1/cloudtrail", "https://account-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk/listRegions eu-isoe-west-1/account"}},
	{"us-isof-south-1", false, false, [4]string{"https://ssm.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/ssm", "https://secretsmanager.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/secretsmanager", "https://cloudtrail.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/cloudtrail", "https://account.us-isof-south-1.csp.hci.ic.gov/listRegions us-isof-south-1/account"}},
	{"us-isof-south-1", true, false, [4]string{"https://ssm-fips.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/ssm", "https://secretsmanager-fips.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/secretsmanager", "https://cloudtrail-fips.us-isof-south-1.csp.hci.ic.gov/ us-isof-south-1/cloudtrail", "https://account-fips.us-isof-south-1.csp.hci.ic.gov/listRegions us-isof-south-1/account"}},
	{"us-isof-south-1", false, true, [4]string{"https://ssm.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/ssm", "https://secretsmanager.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/secretsmanager", "https://cloudtrail.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/cloudtrail", "https://account.us-isof-south-1.api.aws.hci.ic.gov/listRegions us-isof-south-1/account"}},
	{"us-isof-south-1", true, true, [4]string{"https://ssm-fips.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/ssm", "https://secretsmanager-fips.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/secretsmanager", "https://cloudtrail-fips.us-isof-south-1.api.aws.hci.ic.gov/ us-isof-south-1/cloudtrail", "https://account-fips.us-isof-south-1.api.aws.hci.ic.gov/listRegions us-isof-south-1/account"}},
	{"eusc-de-east-1", false, false, [4]string{"https://ssm.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/ssm", "https://secretsmanager.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/secretsmanager", "https://cloudtrail.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/cloudtrail", "https://account.eusc-de-east-1.amazonaws.eu/listRegions eusc-de-east-1/account"}},
	{"eusc-de-east-1", true, false, [4]string{"https://ssm-fips.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/ssm", "https://secretsmanager-fips.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/secretsmanager", "https://cloudtrail-fips.eusc-de-east-1.amazonaws.eu/ eusc-de-east-1/cloudtrail", "https://account-fips.eusc-de-east-1.amazonaws.eu/listRegions eusc-de-east-1/account"}},
	{"eusc-de-east-1", false, true, [4]string{"https://ssm.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/ssm", "https://secretsmanager.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/secretsmanager", "https://cloudtrail.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/cloudtrail", "https://account.eusc-de-east-1.api.amazonwebservices.eu/listRegions eusc-de-east-1/account"}},
	{"eusc-de-east-1", true, true, [4]string{"https://ssm-fips.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/ssm", "https://secretsmanager-fips.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/secretsmanager", "https://cloudtrail-fips.eusc-de-east-1.api.amazonwebservices.eu/ eusc-de-east-1/cloudtrail", "https://account-fips.eusc-de-east-1.api.amazonwebservices.eu/listRegions eusc-de-east-1/account"}},
	{"ap-southeast-7", false, false, [4]string{"https://ssm.ap-southeast-7.amazonaws.com/ ap-southeast-7/ssm", "https://secretsmanager.ap-southeast-7.amazonaws.com/ ap-southeast-7/secretsmanager", "https://cloudtrail.ap-southeast-7.amazonaws.com/ ap-southeast-7/cloudtrail", "https://account.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"ap-southeast-7", true, false, [4]string{"https://ssm-fips.ap-southeast-7.amazonaws.com/ ap-southeast-7/ssm", "https://secretsmanager-fips.ap-southeast-7.amazonaws.com/ ap-southeast-7/secretsmanager", "https://cloudtrail-fips.ap-southeast-7.amazonaws.com/ ap-southeast-7/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"ap-southeast-7", false, true, [4]string{"https://ssm.ap-southeast-7.api.aws/ ap-southeast-7/ssm", "https://secretsmanager.ap-southeast-7.amazonaws.com/ ap-southeast-7/secretsmanager", "https://cloudtrail.ap-southeast-7.api.aws/ ap-southeast-7/cloudtrail", "https://account.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"ap-southeast-7", true, true, [4]string{"https://ssm-fips.ap-southeast-7.api.aws/ ap-southeast-7/ssm", "https://secretsmanager-fips.ap-southeast-7.amazonaws.com/ ap-southeast-7/secretsmanager", "https://cloudtrail-fips.ap-southeast-7.api.aws/ ap-southeast-7/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"xx-fake-1", false, false, [4]string{"https://ssm.xx-fake-1.amazonaws.com/ xx-fake-1/ssm", "https://secretsmanager.xx-fake-1.amazonaws.com/ xx-fake-1/secretsmanager", "https://cloudtrail.xx-fake-1.amazonaws.com/ xx-fake-1/cloudtrail", "https://account.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"xx-fake-1", true, false, [4]string{"https://ssm-fips.xx-fake-1.amazonaws.com/ xx-fake-1/ssm", "https://secretsmanager-fips.xx-fake-1.amazonaws.com/ xx-fake-1/secretsmanager", "https://cloudtrail-fips.xx-fake-1.amazonaws.com/ xx-fake-1/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"xx-fake-1", false, true, [4]string{"https://ssm.xx-fake-1.api.aws/ xx-fake-1/ssm", "https://secretsmanager.xx-fake-1.amazonaws.com/ xx-fake-1/secretsmanager", "https://cloudtrail.xx-fake-1.api.aws/ xx-fake-1/cloudtrail", "https://account.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"xx-fake-1", true, true, [4]string{"https://ssm-fips.xx-fake-1.api.aws/ xx-fake-1/ssm", "https://secretsmanager-fips.xx-fake-1.amazonaws.com/ xx-fake-1/secretsmanager", "https://cloudtrail-fips.xx-fake-1.api.aws/ xx-fake-1/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"aws-global", false, false, [4]string{"https://ssm.aws-global.amazonaws.com/ aws-global/ssm", "https://secretsmanager.aws-global.amazonaws.com/ aws-global/secretsmanager", "https://cloudtrail.aws-global.amazonaws.com/ aws-global/cloudtrail", "https://account.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"aws-global", true, false, [4]string{"https://ssm-fips.aws-global.amazonaws.com/ aws-global/ssm", "https://secretsmanager-fips.aws-global.amazonaws.com/ aws-global/secretsmanager", "https://cloudtrail-fips.aws-global.amazonaws.com/ aws-global/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"aws-global", false, true, [4]string{"https://ssm.aws-global.api.aws/ aws-global/ssm", "https://secretsmanager.aws-global.amazonaws.com/ aws-global/secretsmanager", "https://cloudtrail.aws-global.api.aws/ aws-global/cloudtrail", "https://account.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"aws-global", true, true, [4]string{"https://ssm-fips.aws-global.api.aws/ aws-global/ssm", "https://secretsmanager-fips.aws-global.amazonaws.com/ aws-global/secretsmanager", "https://cloudtrail-fips.aws-global.api.aws/ aws-global/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"fips-us-east-1", false, false, [4]string{"https://ssm-fips.us-east-1.amazonaws.com/ fips-us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ fips-us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.amazonaws.com/ fips-us-east-1/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"fips-us-east-1", true, false, [4]string{"https://ssm-fips.us-east-1.amazonaws.com/ fips-us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ fips-us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.amazonaws.com/ fips-us-east-1/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"fips-us-east-1", false, true, [4]string{"https://ssm-fips.us-east-1.api.aws/ fips-us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ fips-us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.api.aws/ fips-us-east-1/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"fips-us-east-1", true, true, [4]string{"https://ssm-fips.us-east-1.api.aws/ fips-us-east-1/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ fips-us-east-1/secretsmanager", "https://cloudtrail-fips.us-east-1.api.aws/ fips-us-east-1/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"us-east-1-fips", false, false, [4]string{"https://ssm-fips.us-east-1.amazonaws.com/ us-east-1-fips/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1-fips/secretsmanager", "https://cloudtrail-fips.us-east-1.amazonaws.com/ us-east-1-fips/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"us-east-1-fips", true, false, [4]string{"https://ssm-fips.us-east-1.amazonaws.com/ us-east-1-fips/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1-fips/secretsmanager", "https://cloudtrail-fips.us-east-1.amazonaws.com/ us-east-1-fips/cloudtrail", "https://account-fips.us-east-1.amazonaws.com/listRegions us-east-1/account"}},
	{"us-east-1-fips", false, true, [4]string{"https://ssm-fips.us-east-1.api.aws/ us-east-1-fips/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1-fips/secretsmanager", "https://cloudtrail-fips.us-east-1.api.aws/ us-east-1-fips/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"us-east-1-fips", true, true, [4]string{"https://ssm-fips.us-east-1.api.aws/ us-east-1-fips/ssm", "https://secretsmanager-fips.us-east-1.amazonaws.com/ us-east-1-fips/secretsmanager", "https://cloudtrail-fips.us-east-1.api.aws/ us-east-1-fips/cloudtrail", "https://account-fips.us-east-1.api.aws/listRegions us-east-1/account"}},
	{"fips-us-gov-west-1", false, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"fips-us-gov-west-1", true, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"fips-us-gov-west-1", false, true, [4]string{"https://ssm-fips.us-gov-west-1.api.aws/ fips-us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/secretsmanager", "https://cloudtrail-fips.us-gov-west-1.api.aws/ fips-us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"fips-us-gov-west-1", true, true, [4]string{"https://ssm-fips.us-gov-west-1.api.aws/ fips-us-gov-west-1/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ fips-us-gov-west-1/secretsmanager", "https://cloudtrail-fips.us-gov-west-1.api.aws/ fips-us-gov-west-1/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1-fips", false, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1-fips", true, false, [4]string{"https://ssm.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/secretsmanager", "https://cloudtrail.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/cloudtrail", "https://account-fips.us-gov-west-1.amazonaws.com/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1-fips", false, true, [4]string{"https://ssm-fips.us-gov-west-1.api.aws/ us-gov-west-1-fips/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/secretsmanager", "https://cloudtrail-fips.us-gov-west-1.api.aws/ us-gov-west-1-fips/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
	{"us-gov-west-1-fips", true, true, [4]string{"https://ssm-fips.us-gov-west-1.api.aws/ us-gov-west-1-fips/ssm", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/ us-gov-west-1-fips/secretsmanager", "https://cloudtrail-fips.us-gov-west-1.api.aws/ us-gov-west-1-fips/cloudtrail", "https://account-fips.us-gov-west-1.api.aws/listRegions us-gov-west-1/account"}},
}

// capture answers every request with an empty 200 and keeps the last one's
// URL and credential scope.
type capture struct{ last string }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	scope := ""
	if _, s, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		if p := strings.Split(strings.SplitN(s, ",", 2)[0], "/"); len(p) == 5 {
			scope = p[2] + "/" + p[3]
		}
	}
	c.last = r.URL.String() + " " + scope
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// modes is a config source with FIPS and dual-stack settings, as
// config.EnvConfig is for AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT.
type modes struct{ fips, dualStack bool }

func (m modes) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	if m.fips {
		return aws.FIPSEndpointStateEnabled, true, nil
	}
	return aws.FIPSEndpointStateDisabled, true, nil
}

func (m modes) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	if m.dualStack {
		return aws.DualStackEndpointStateEnabled, true, nil
	}
	return aws.DualStackEndpointStateDisabled, true, nil
}

// send calls one operation of svc with cfg and returns what capture saw
// (or the error).
func send(t *testing.T, cfg aws.Config, svc *Service) string {
	t.Helper()
	c := &capture{}
	cfg.HTTPClient = c
	if cfg.Credentials == nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")
	}
	cl := New(cfg, svc, Options{})
	var err error
	if svc.Target == "" {
		err = cl.CallREST(context.Background(), "ListRegions", "/listRegions", struct{}{}, nil)
	} else {
		err = cl.Call(context.Background(), "Op", struct{}{}, nil)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return c.last
}

func TestDefaultEndpointsAsTheSDK(t *testing.T) {
	t.Parallel()
	svcs := [4]*Service{SSM, SecretsManager, CloudTrail, Account}
	for _, row := range sdkEndpoints {
		for i, svc := range svcs {
			cfg := aws.Config{Region: row.region, ConfigSources: []any{modes{row.fips, row.dualStack}}}
			if got := send(t, cfg, svc); got != row.want[i] {
				t.Errorf("%s in %s, FIPS %v, dual-stack %v:\n got %s\nwant %s", svc.ID, row.region, row.fips, row.dualStack, got, row.want[i])
			}
		}
	}
}

// TestEndpointOrder: the service's own endpoint (AWS_ENDPOINT_URL_<ID>, the
// shared config's services section) beats BaseEndpoint (--endpoint-url,
// AWS_ENDPOINT_URL), unless configured endpoints are ignored; with
// AWS_ENDPOINT_URL set, only the environment variable counts, as in the SDK.
func TestEndpointOrder(t *testing.T) {
	dir := t.TempDir()
	shared := filepath.Join(dir, "config")
	if err := os.WriteFile(shared, []byte("[default]\nservices = local\n\n[services local]\nssm =\n  endpoint_url = http://shared.example:3\nsecrets_manager =\n  endpoint_url = http://shared.example:4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		base string
		svc  *Service
		want string
	}{
		{"base only", nil, "http://base.example:1", SSM, "http://base.example:1/ eu-west-1/ssm"},
		{"service variable beats base", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.example:2"}, "http://base.example:1", SSM, "http://ssm.example:2/ eu-west-1/ssm"},
		{"another service's variable", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.example:2"}, "http://base.example:1", CloudTrail, "http://base.example:1/ eu-west-1/cloudtrail"},
		{"the variable of a name with a space", map[string]string{"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://sm.example:2"}, "", SecretsManager, "http://sm.example:2/ eu-west-1/secretsmanager"},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.example:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "http://base.example:1", SSM, "http://base.example:1/ eu-west-1/ssm"},
		{"ignored, no base", map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm.example:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "", SSM, "https://ssm.eu-west-1.amazonaws.com/ eu-west-1/ssm"},
		{"services section", map[string]string{"AWS_CONFIG_FILE": shared}, "http://base.example:1", SSM, "http://shared.example:3/ eu-west-1/ssm"},
		{"services section, spaced name", map[string]string{"AWS_CONFIG_FILE": shared}, "", SecretsManager, "http://shared.example:4/ eu-west-1/secretsmanager"},
		{"services section under AWS_ENDPOINT_URL", map[string]string{"AWS_CONFIG_FILE": shared, "AWS_ENDPOINT_URL": "http://global.example:5"}, "", SSM, "http://global.example:5/ eu-west-1/ssm"},
		{"Account signs for the configured region at a custom endpoint", nil, "http://base.example:1/prefix", Account, "http://base.example:1/prefix/listRegions eu-west-1/account"},
		{"FIPS and a custom endpoint", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "http://base.example:1", SSM,
			"error: operation error SSM: Op, failed to resolve service endpoint, endpoint rule error, Invalid Configuration: FIPS and custom endpoint are not supported"},
		{"FIPS from the environment", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, "", SSM, "https://ssm-fips.eu-west-1.amazonaws.com/ eu-west-1/ssm"},
		{"dual-stack from the environment", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, "", CloudTrail, "https://cloudtrail.eu-west-1.api.aws/ eu-west-1/cloudtrail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_ENDPOINT_URL_ACCOUNT",
				"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_PROFILE"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"),
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
			if err != nil {
				t.Fatal(err)
			}
			if tc.base != "" {
				cfg.BaseEndpoint = aws.String(tc.base)
			}
			if got := send(t, cfg, tc.svc); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestInvalidRegion(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{
		"":            "error: operation error SSM: Op, failed to resolve service endpoint, endpoint rule error, Invalid Configuration: Missing Region",
		"us-east-1/x": "error: operation error SSM: Op, failed to resolve service endpoint, failed to bind endpoint params, invalid input region us-east-1/x",
		"-us-east-1":  "error: operation error SSM: Op, failed to resolve service endpoint, failed to bind endpoint params, invalid input region -us-east-1",
	} {
		if got := send(t, aws.Config{Region: region}, SSM); got != want {
			t.Errorf("region %q: %s", region, got)
		}
	}
}
