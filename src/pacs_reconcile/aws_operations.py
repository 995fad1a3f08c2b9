"""The AWS operations pacs-reconcile calls, by botocore service: the only ones its clients are made with.

A client is made from its service's whole API model; the 19 a plan makes hold ~2,200 operations and
their shapes (ec2's model alone is 3 MB on disk), of which the tool calls ~240. aws_models keeps
each API model to the operations named here, the shapes they reach and the service's errors, without
documentation: a plan of the repository's stack then ran in 0.78 s instead of 0.85 s (median of 11
alternating runs against the benchmark's emulator) and peaked at 76 MB instead of 110 MB.

tests/test_aws_operations.py holds this table to what the code can call: every operation name the
package's source mentions (method names and paginator names, for the services it makes clients of),
every operation of the IAM tables (permissions.py: the kinds', the lookups', the engine's), and the
calls botocore makes on the tool's behalf (BOTOCORE_CALLS). A new call fails that test, naming the
entry to add here; an entry no code names fails it too. A service not named here gets its whole model;
an operation left out still works, through a client of the whole model (aws.AwsContext._left_out),
at the cost of loading it.
"""

from __future__ import annotations

from collections.abc import Mapping

BOTOCORE_CALLS: Mapping[str, frozenset[str]] = {
    # an environment's assume_role: botocore's AssumeRoleCredentialFetcher calls it (aws.py)
    "sts": frozenset({"AssumeRole"}),
}
"""Operations botocore calls with the tool's clients, not the tool's code."""

OPERATIONS: Mapping[str, frozenset[str]] = {
    "application-autoscaling": frozenset(
        {
            "DescribeScalingPolicies",
            "ListTagsForResource",
            "TagResource",
            "UntagResource",
        }
    ),
    "autoscaling": frozenset(
        {
            "DeletePolicy",
            "DeleteTags",
            "DescribeAutoScalingGroups",
            "DescribeLoadBalancers",
        }
    ),
    "cloudwatch": frozenset(
        {
            "DeleteAlarms",
            "DeleteDashboards",
            "DescribeAlarms",
            "GetDashboard",
            "ListDashboards",
            "ListMetrics",
            "ListTagsForResource",
            "PutCompositeAlarm",
            "PutDashboard",
            "PutMetricAlarm",
            "PutMetricData",
            "SetAlarmState",
            "TagResource",
            "UntagResource",
        }
    ),
    "ec2": frozenset(
        {
            "AuthorizeSecurityGroupEgress",
            "AuthorizeSecurityGroupIngress",
            "CreateFlowLogs",
            "CreateSecurityGroup",
            "CreateTags",
            "DeleteFlowLogs",
            "DeleteSecurityGroup",
            "DeleteTags",
            "DescribeFlowLogs",
            "DescribeInstances",
            "DescribeNetworkInterfaces",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeVpcs",
            "RevokeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "UpdateSecurityGroupRuleDescriptionsEgress",
            "UpdateSecurityGroupRuleDescriptionsIngress",
        }
    ),
    "ecs": frozenset(
        {
            "CreateService",
            "DeleteService",
            "DeregisterTaskDefinition",
            "DescribeServices",
            "DescribeTaskDefinition",
            "ListAttributes",
            "ListClusters",
            "ListServices",
            "ListTagsForResource",
            "ListTaskDefinitionFamilies",
            "ListTaskDefinitions",
            "RegisterTaskDefinition",
            "TagResource",
            "UntagResource",
            "UpdateService",
        }
    ),
    "efs": frozenset(
        {
            "CreateAccessPoint",
            "CreateFileSystem",
            "CreateMountTarget",
            "CreateTags",
            "DeleteAccessPoint",
            "DeleteFileSystem",
            "DeleteMountTarget",
            "DeleteTags",
            "DescribeAccessPoints",
            "DescribeFileSystems",
            "DescribeLifecycleConfiguration",
            "DescribeMountTargetSecurityGroups",
            "DescribeMountTargets",
            "ListTagsForResource",
            "ModifyMountTargetSecurityGroups",
            "PutLifecycleConfiguration",
            "TagResource",
            "UntagResource",
            "UpdateFileSystem",
        }
    ),
    "elbv2": frozenset(
        {
            "DeleteRule",
            "DescribeLoadBalancers",
        }
    ),
    "events": frozenset(
        {
            "CreateEventBus",
            "DeleteEventBus",
            "DeleteRule",
            "DescribeEventBus",
            "ListEventBuses",
            "ListRules",
            "ListTagsForResource",
            "ListTargetsByRule",
            "PutPermission",
            "PutRule",
            "PutTargets",
            "RemovePermission",
            "RemoveTargets",
            "TagResource",
            "UntagResource",
            "UpdateEventBus",
        }
    ),
    "firehose": frozenset(
        {
            "DescribeDeliveryStream",
        }
    ),
    "iam": frozenset(
        {
            "AttachRolePolicy",
            "CreatePolicy",
            "CreatePolicyVersion",
            "CreateRole",
            "DeletePolicy",
            "DeletePolicyVersion",
            "DeleteRole",
            "DeleteRolePolicy",
            "DetachRolePolicy",
            "GetAccountAuthorizationDetails",
            "GetPolicy",
            "GetPolicyVersion",
            "GetRole",
            "ListAttachedRolePolicies",
            "ListEntitiesForPolicy",
            "ListInstanceProfilesForRole",
            "ListPolicies",
            "ListPolicyTags",
            "ListPolicyVersions",
            "ListRolePolicies",
            "ListRoleTags",
            "ListRoles",
            "PutRolePolicy",
            "RemoveRoleFromInstanceProfile",
            "TagPolicy",
            "TagRole",
            "UntagPolicy",
            "UntagRole",
            "UpdateAssumeRolePolicy",
            "UpdateRole",
        }
    ),
    "kms": frozenset(
        {
            "CancelKeyDeletion",
            "CreateAlias",
            "CreateKey",
            "DeleteAlias",
            "DescribeKey",
            "DisableKey",
            "DisableKeyRotation",
            "EnableKey",
            "EnableKeyRotation",
            "GetKeyPolicy",
            "GetKeyRotationStatus",
            "ListAliases",
            "ListKeys",
            "ListResourceTags",
            "PutKeyPolicy",
            "ScheduleKeyDeletion",
            "TagResource",
            "UntagResource",
            "UpdateAlias",
            "UpdateKeyDescription",
            "Verify",
        }
    ),
    "lambda": frozenset(
        {
            "AddPermission",
            "CreateAlias",
            "CreateFunction",
            "DeleteAlias",
            "DeleteFunction",
            "GetFunction",
            "GetPolicy",
            "Invoke",
            "ListAliases",
            "ListFunctions",
            "RemovePermission",
            "TagResource",
            "UntagResource",
            "UpdateAlias",
            "UpdateFunctionCode",
            "UpdateFunctionConfiguration",
        }
    ),
    "logs": frozenset(
        {
            "AssociateKmsKey",
            "CreateLogGroup",
            "DeleteLogGroup",
            "DeleteMetricFilter",
            "DeleteQueryDefinition",
            "DeleteRetentionPolicy",
            "DescribeLogGroups",
            "DescribeLogStreams",
            "DescribeMetricFilters",
            "DescribeQueryDefinitions",
            "DisassociateKmsKey",
            "ListTagsForResource",
            "PutMetricFilter",
            "PutQueryDefinition",
            "PutRetentionPolicy",
            "TagResource",
            "TestMetricFilter",
            "UntagResource",
        }
    ),
    "rds": frozenset(
        {
            "AddTagsToResource",
            "DescribeDBInstances",
            "ListTagsForResource",
            "RemoveTagsFromResource",
        }
    ),
    "resourcegroupstaggingapi": frozenset(
        {
            "GetResources",
        }
    ),
    "route53": frozenset(
        {
            "GetHostedZone",
            "ListTagsForResource",
        }
    ),
    "s3": frozenset(
        {
            "HeadBucket",
        }
    ),
    "servicediscovery": frozenset(
        {
            "CreatePrivateDnsNamespace",
            "CreateService",
            "DeleteNamespace",
            "DeleteService",
            "GetNamespace",
            "GetOperation",
            "GetService",
            "ListNamespaces",
            "ListServices",
            "ListTagsForResource",
            "TagResource",
            "UntagResource",
            "UpdatePrivateDnsNamespace",
            "UpdateService",
        }
    ),
    "sns": frozenset(
        {
            "AddPermission",
            "CreateTopic",
            "DeleteTopic",
            "GetSubscriptionAttributes",
            "GetTopicAttributes",
            "ListSubscriptionsByTopic",
            "ListTagsForResource",
            "ListTopics",
            "Publish",
            "RemovePermission",
            "SetSubscriptionAttributes",
            "SetTopicAttributes",
            "Subscribe",
            "TagResource",
            "Unsubscribe",
            "UntagResource",
        }
    ),
    "sqs": frozenset(
        {
            "AddPermission",
            "CreateQueue",
            "DeleteQueue",
            "GetQueueAttributes",
            "GetQueueUrl",
            "ListQueueTags",
            "ListQueues",
            "RemovePermission",
            "SetQueueAttributes",
            "TagQueue",
            "UntagQueue",
        }
    ),
    "ssm": frozenset(
        {
            "AddTagsToResource",
            "DeleteParameter",
            "DescribeParameters",
            "GetParameter",
            "GetParameters",
            "ListTagsForResource",
            "PutParameter",
            "RemoveTagsFromResource",
        }
    ),
    "sts": frozenset(
        {
            "AssumeRole",
            "GetCallerIdentity",
        }
    ),
}
