# The role keyrot assumes in each member account of an organization run
# (keyrot enforce --org --role-name KeyrotFleet), as Terraform. Apply it in
# every member account, for instance with one provider alias per account
# that assumes OrganizationAccountAccessRole:
#
#   provider "aws" {
#     alias = "dev"
#     assume_role { role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole" }
#   }
#   module "keyrot_dev" {
#     source           = "./keyrot-member-role"
#     providers        = { aws = aws.dev }
#     keyrot_principal = "arn:aws:iam::123456789012:role/keyrot"
#   }
#
# Least privilege: set mode = "audit" for a role that reads the credential
# report only.

variable "keyrot_principal" {
  description = "ARN of the role or user keyrot runs as in the management (or delegated administrator) account"
  type        = string
}

variable "external_id" {
  description = "ExternalId the role requires (keyrot --external-id); empty for none"
  type        = string
  default     = ""
}

variable "mode" {
  description = "audit: read the credential report only; enforce: also manage keys and write the new secrets"
  type        = string
  default     = "enforce"
  validation {
    condition     = contains(["audit", "enforce"], var.mode)
    error_message = "mode is audit or enforce."
  }
}

variable "user_path" {
  description = "IAM path of the users keyrot may rotate (keyrot --path)"
  type        = string
  default     = "/"
}

variable "secret_prefix" {
  description = "Secrets Manager names keyrot may write (keyrot --secret-id 'ci/{user}/aws')"
  type        = string
  default     = "ci/"
}

data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.keyrot_principal]
    }
    dynamic "condition" {
      for_each = var.external_id == "" ? [] : [var.external_id]
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [condition.value]
      }
    }
  }
}

data "aws_iam_policy_document" "keyrot" {
  statement {
    sid       = "ReadCredentialReport"
    actions   = ["iam:GenerateCredentialReport", "iam:GetCredentialReport"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = var.mode == "enforce" ? [1] : []
    content {
      sid = "ManageAccessKeys"
      actions = [
        "iam:ListAccessKeys",
        "iam:GetAccessKeyLastUsed",
        "iam:UpdateAccessKey",
        "iam:CreateAccessKey",
        "iam:DeleteAccessKey",
      ]
      resources = ["arn:${data.aws_partition.this.partition}:iam::${data.aws_caller_identity.this.account_id}:user${var.user_path}*"]
    }
  }
  dynamic "statement" {
    for_each = var.mode == "enforce" ? [1] : []
    content {
      sid = "WriteNewSecrets"
      actions = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
      ]
      resources = ["arn:${data.aws_partition.this.partition}:secretsmanager:*:${data.aws_caller_identity.this.account_id}:secret:${var.secret_prefix}*"]
    }
  }
}

resource "aws_iam_role" "keyrot" {
  name                 = "KeyrotFleet"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "keyrot" {
  name   = "keyrot"
  role   = aws_iam_role.keyrot.id
  policy = data.aws_iam_policy_document.keyrot.json
}

output "role_name" {
  value = aws_iam_role.keyrot.name
}
