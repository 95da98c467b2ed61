//! The roles that a stack may create (issue 23 §2): every role of
//! cfn/bootstrap.yaml, cfn/region.yaml and cfn/global.yaml carries the
//! permissions boundary that cfn/github-oidc.yaml ships (tandem-<env>-boundary,
//! the union of what those roles' policies grant); CloudFormationRole creates
//! or changes a role only with it, never attaches a managed policy or removes
//! a boundary, and administers only the KMS keys tagged tandem:env=<env>.
//!
//! Each check is a function that returns its problems, one sentence each, so
//! every test runs it on the real templates (no problem) and on a broken copy
//! (the problem it exists to catch).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use template_tests::{Template, github_oidc_for, one_or_many as list, statement_branches};

/// The templates whose stacks CloudFormationRole deploys.
const STACKS: [&str; 3] = ["bootstrap.yaml", "region.yaml", "global.yaml"];

/// The permissions boundary every role of the stacks names, in long form.
fn boundary_arn() -> Value {
    json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/tandem-${Env}-boundary"})
}

/// The KMS key tag that CloudFormationRole's key statements require.
const KEY_TAG: &str = "tandem:env";

/// cfn/github-oidc.yaml for dev, its conditions resolved.
fn oidc() -> Template {
    github_oidc_for("dev")
}

/// A statement's actions, as names.
fn actions(statement: &Value) -> Vec<&str> {
    list(&statement["Action"])
        .into_iter()
        .filter_map(Value::as_str)
        .collect()
}

/// A template loaded from text, for the broken copies.
fn parse(name: &str, text: &str) -> Template {
    Template::from_yaml_str(name, text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The statements of the inline policies of every role in a template, as
/// (role, statement).
fn role_statements(t: &Template) -> Vec<(String, &Value)> {
    t.resources_of("AWS::IAM::Role")
        .into_iter()
        .flat_map(|(id, r)| {
            list(&r["Properties"]["Policies"])
                .into_iter()
                .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
                .flat_map(statement_branches)
                .map(move |s| (id.to_string(), s))
        })
        .collect()
}

/// The statements of the managed policies attached to CloudFormationRole.
fn execution_statements(t: &Template) -> Vec<&Value> {
    t.resources_of("AWS::IAM::ManagedPolicy")
        .into_iter()
        .filter(|(_, r)| list(&r["Properties"]["Roles"]).contains(&&json!({"Ref": "CloudFormationRole"})))
        .flat_map(|(_, r)| list(&r["Properties"]["PolicyDocument"]["Statement"]))
        .collect()
}

/// The roles of a stack template without tandem-<env>-boundary as their boundary.
fn unbounded_roles(t: &Template) -> Vec<String> {
    t.resources_of("AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["PermissionsBoundary"] != boundary_arn())
        .map(|(id, r)| {
            format!(
                "{}: role {id} has PermissionsBoundary {}, not tandem-${{Env}}-boundary.",
                t.name(),
                r["Properties"]["PermissionsBoundary"]
            )
        })
        .collect()
}

/// Every role the stacks make names the boundary by the convention, and the
/// boundary is cfn/github-oidc.yaml's RoleBoundary under that name, attached
/// to nothing (a boundary grants nothing; attached as a policy it would).
#[test]
fn every_role_the_stacks_make_carries_the_boundary() {
    let mut roles = 0;
    for file in STACKS {
        let t = Template::load(file);
        roles += t.resources_of("AWS::IAM::Role").len();
        assert_eq!(unbounded_roles(&t), Vec::<String>::new());
    }
    assert!(
        roles >= 9,
        "only {roles} roles in the stacks: this test checks too little"
    );
    let t = oidc();
    let boundary = t.properties("RoleBoundary");
    assert_eq!(t.type_of("RoleBoundary"), "AWS::IAM::ManagedPolicy");
    assert_eq!(
        boundary["ManagedPolicyName"],
        json!({"Fn::Sub": "tandem-${Env}-boundary"})
    );
    for attachment in ["Roles", "Users", "Groups"] {
        assert!(
            boundary.get(attachment).is_none(),
            "the boundary is attached to {attachment}"
        );
    }

    let broken = parse(
        "broken-region.yaml",
        r#"
Resources:
  Bounded:
    Type: AWS::IAM::Role
    Properties:
      PermissionsBoundary: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/tandem-${Env}-boundary
  Unbounded:
    Type: AWS::IAM::Role
    Properties: { RoleName: !Sub "tandem-${Env}-x" }
  OtherBoundary:
    Type: AWS::IAM::Role
    Properties:
      PermissionsBoundary: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mine
"#,
    );
    let problems = unbounded_roles(&broken);
    assert_eq!(problems.len(), 2, "{problems:?}");
    for role in ["OtherBoundary", "Unbounded"] {
        assert!(
            problems.iter().any(|p| p.contains(&format!("role {role} "))),
            "{problems:?}"
        );
    }
}

/// The actions that the Allow statements of the stacks' roles grant, by
/// role, and those the boundary allows; the problems are the actions of a
/// role outside the boundary, and the boundary's actions that no role uses.
fn boundary_union_problems(stacks: &[Template], boundary: &Template) -> Vec<String> {
    let mut granted = BTreeSet::new();
    let mut problems = Vec::new();
    let allowed: BTreeSet<&str> = list(&boundary.properties("RoleBoundary")["PolicyDocument"]["Statement"])
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(actions)
        .collect();
    for t in stacks {
        for (role, s) in role_statements(t) {
            if s["Effect"] != "Allow" {
                continue;
            }
            for action in actions(s) {
                granted.insert(action.to_string());
                if !allowed.contains(action) {
                    problems.push(format!(
                        "{}: role {role} grants {action}, which the boundary does not allow: run scripts/cfn-exec-policy.py and have cfn/github-oidc.yaml redeployed.",
                        t.name()
                    ));
                }
            }
        }
    }
    for action in allowed {
        if !granted.contains(action) {
            problems.push(format!(
                "The boundary allows {action}, which no role of the stacks grants: it is wider than the union."
            ));
        }
    }
    problems
}

/// The boundary is exactly the union: every action that any role of
/// bootstrap, region or global grants is allowed by it (or the role could not
/// do its work on AWS, where the local AWS checks nothing), and it allows no
/// action that none of them grants.
#[test]
fn the_boundary_is_the_union_of_what_the_roles_grant() {
    let stacks: Vec<Template> = STACKS.iter().map(|f| Template::load(f)).collect();
    let boundary = oidc();
    assert_eq!(boundary_union_problems(&stacks, &boundary), Vec::<String>::new());
    let granted: usize = stacks.iter().map(|t| role_statements(t).len()).sum();
    assert!(
        granted > 30,
        "only {granted} role statements: this test checks too little"
    );

    // A role that grants an action outside the boundary fails.
    let wider = parse(
        "wider.yaml",
        r#"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - { Effect: Allow, Action: [s3:DeleteBucket, sns:Publish], Resource: "*" }
"#,
    );
    let problems = boundary_union_problems(&[wider], &boundary);
    assert!(
        problems.iter().any(|p| p.contains("role Role grants s3:DeleteBucket")),
        "{problems:?}"
    );
    assert!(
        !problems.iter().any(|p| p.contains("grants sns:Publish")),
        "sns:Publish is in the boundary: {problems:?}"
    );
}

/// The boundary's IAM statement (iam:PassRole) reaches the stacks' roles
/// only, and its KMS statement the environment's tagged keys only.
#[test]
fn the_boundary_passes_only_the_stacks_roles_and_uses_only_the_environments_keys() {
    let t = oidc();
    let statements = list(&t.properties("RoleBoundary")["PolicyDocument"]["Statement"]);
    let mut seen = BTreeSet::new();
    for s in statements {
        let acts = actions(s);
        let service = acts[0].split(':').next().unwrap_or_default();
        assert!(
            acts.iter().all(|a| a.starts_with(&format!("{service}:"))),
            "one service a statement: {s}"
        );
        seen.insert(service.to_string());
        match service {
            "iam" => assert_eq!(
                s["Resource"],
                json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/tandem-${Env}-*"}])
            ),
            "kms" => assert_eq!(
                s["Condition"]["StringEquals"][format!("aws:ResourceTag/{KEY_TAG}")],
                json!({"Ref": "Env"})
            ),
            _ => assert_eq!(
                s["Condition"]["StringEquals"]["aws:RequestedRegion"],
                json!([{"Ref": "PrimaryRegion"}, {"Ref": "StandbyRegion"}, "us-east-1"]),
                "{s}"
            ),
        }
    }
    assert!(seen.contains("iam") && seen.contains("kms"), "{seen:?}");
}

/// The IAM calls that create a role or change what it may do: each takes the
/// iam:PermissionsBoundary condition key (Service Authorization Reference, IAM).
const ROLE_CHANGES: [&str; 7] = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
];

/// The IAM actions CloudFormationRole may have without the boundary
/// condition: reads, deletes, tags, service-linked roles and PassRole (of
/// tandem-<env>-* roles, each of which carries the boundary).
const IAM_UNBOUNDED: [&str; 9] = [
    "iam:CreateServiceLinkedRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:PassRole",
    "iam:TagRole",
    "iam:UntagRole",
];

/// The problems of CloudFormationRole's IAM statements: a role change without
/// the boundary condition or beyond tandem-<env>-* roles, an IAM action
/// outside the two lists above (AttachRolePolicy, DeleteRolePermissionsBoundary,
/// CreatePolicyVersion), or an IAM resource other than a role.
fn execution_iam_problems(statements: &[&Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let bounded = json!({"StringEquals": {"iam:PermissionsBoundary": {"Ref": "RoleBoundary"}}});
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        let iam: Vec<&str> = actions(s).into_iter().filter(|a| a.starts_with("iam:")).collect();
        if iam.is_empty() {
            continue;
        }
        for r in list(&s["Resource"]) {
            if !r.to_string().contains(":role/") {
                problems.push(format!(
                    "An execution statement's IAM actions reach {r}, which is not a role."
                ));
            }
        }
        for action in iam {
            if ROLE_CHANGES.contains(&action) {
                if s["Condition"] != bounded {
                    problems.push(format!(
                        "The execution role may {action} without the condition that the role's boundary is RoleBoundary."
                    ));
                }
                if s["Resource"]
                    != json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/tandem-${Env}-*"}])
                {
                    problems.push(format!(
                        "The execution role may {action} on roles other than tandem-<env>-*."
                    ));
                }
            } else if !IAM_UNBOUNDED.contains(&action) {
                problems.push(format!(
                    "The execution role may {action}, which is neither a bounded role change nor a read, delete, tag or pass."
                ));
            }
        }
    }
    problems
}

/// CloudFormationRole creates or changes a role only with the boundary; it
/// has no AttachRolePolicy, DetachRolePolicy or DeleteRolePermissionsBoundary
/// and no action on a managed policy; and an explicit Deny keeps it so,
/// whatever the generated policies come to allow: no boundary removed, no
/// managed policy attached, the boundary policy never changed or deleted.
#[test]
fn the_execution_role_changes_roles_only_with_the_boundary() {
    let t = oidc();
    let statements = execution_statements(&t);
    assert_eq!(execution_iam_problems(&statements), Vec::<String>::new());
    let changes: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| actions(s))
        .filter(|a| ROLE_CHANGES.contains(a))
        .collect();
    assert!(
        changes.contains("iam:CreateRole") && changes.contains("iam:PutRolePolicy"),
        "{changes:?}"
    );

    let denies: Vec<&Value> = list(&t.properties("CloudFormationRole")["Policies"])
        .into_iter()
        .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
        .filter(|s| s["Effect"] == "Deny")
        .collect();
    let denied = |action: &str, resource: &Value| {
        denies.iter().any(|s| {
            actions(s).contains(&action) && list(&s["Resource"]).contains(&resource) && s.get("Condition").is_none()
        })
    };
    for action in [
        "iam:DeleteRolePermissionsBoundary",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
    ] {
        assert!(
            denied(action, &json!("*")),
            "CloudFormationRole has no unconditional Deny of {action} on \"*\""
        );
    }
    for action in [
        "iam:CreatePolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
        "iam:SetDefaultPolicyVersion",
    ] {
        assert!(
            denied(action, &json!({"Ref": "RoleBoundary"})),
            "CloudFormationRole has no Deny of {action} on RoleBoundary"
        );
    }

    let loose = [
        json!({"Effect": "Allow", "Action": ["iam:CreateRole"], "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/tandem-${Env}-*"}]}),
        json!({"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/tandem-${Env}-boundary"}}),
    ];
    let problems = execution_iam_problems(&loose.iter().collect::<Vec<_>>());
    for expected in [
        "may iam:CreateRole without the condition",
        "may iam:AttachRolePolicy, which",
        "may iam:CreatePolicyVersion, which",
        "which is not a role",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:?}"
        );
    }
}

/// The roles of a template that attach managed policies, and the managed
/// policies it makes (a policy CloudFormationRole could attach).
fn attached_policies(t: &Template) -> Vec<String> {
    let mut problems: Vec<String> = t
        .resources_of("AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| r["Properties"].get("ManagedPolicyArns").is_some())
        .map(|(id, _)| format!("{}: role {id} attaches ManagedPolicyArns.", t.name()))
        .collect();
    for kind in ["AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy"] {
        for (id, _) in t.resources_of(kind) {
            problems.push(format!(
                "{}: {id} is an {kind}, which CloudFormationRole may not make.",
                t.name()
            ));
        }
    }
    problems
}

/// No template uses managed policies (the execution role may not attach
/// them): no role of the stacks has ManagedPolicyArns and no stack makes a
/// policy resource; in cfn/github-oidc.yaml, a person's stack, only the
/// execution policies are attached, to CloudFormationRole, by its Roles.
#[test]
fn no_template_attaches_managed_policies() {
    for file in STACKS {
        assert_eq!(attached_policies(&Template::load(file)), Vec::<String>::new());
    }
    let t = oidc();
    for (id, r) in t.resources_of("AWS::IAM::Role") {
        assert!(
            r["Properties"].get("ManagedPolicyArns").is_none(),
            "{id} has ManagedPolicyArns"
        );
    }
    let broken = parse(
        "attaching.yaml",
        r#"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [!Sub "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"]
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties: {}
"#,
    );
    assert_eq!(attached_policies(&broken).len(), 2, "{:?}", attached_policies(&broken));
}

/// The problems of CloudFormationRole's KMS statements: an action on keys
/// (every KMS action but CreateKey and ListAliases) in a statement that does
/// not hold it to keys tagged tandem:env=<env>, CreateKey without that tag
/// on the new key, TagResource beyond the environment's keys and untagged
/// new ones, or an alias other than the environment's.
fn execution_kms_problems(statements: &[&Value]) -> Vec<String> {
    let env = json!({"Ref": "Env"});
    let resource_tag = format!("aws:ResourceTag/{KEY_TAG}");
    let request_tag = format!("aws:RequestTag/{KEY_TAG}");
    let mut problems = Vec::new();
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        let kms: Vec<&str> = actions(s).into_iter().filter(|a| a.starts_with("kms:")).collect();
        if kms.is_empty() {
            continue;
        }
        let equals = &s["Condition"]["StringEquals"];
        let on_own_keys = equals[&resource_tag] == env;
        let resources = list(&s["Resource"]);
        if !resources.contains(&&json!("*")) {
            for r in resources {
                if !r.to_string().contains(":alias/tandem-${Env}") {
                    problems.push(format!(
                        "An execution statement's KMS actions reach {r}, which is not the environment's alias."
                    ));
                }
            }
            continue;
        }
        for action in kms {
            let ok = match action {
                "kms:ListAliases" => true,
                "kms:CreateKey" => equals[&request_tag] == env,
                "kms:TagResource" => {
                    on_own_keys
                        || (equals[&request_tag] == env && s["Condition"]["Null"][&resource_tag] == json!("true"))
                }
                _ => on_own_keys,
            };
            if !ok {
                problems.push(format!(
                    "The execution role may {action} on keys that are not tagged {KEY_TAG}=<env>."
                ));
            }
        }
    }
    problems
}

/// The problems of a template's KMS keys: each must carry tandem:env = !Ref Env.
fn untagged_keys(t: &Template) -> Vec<String> {
    t.resources_of("AWS::KMS::Key")
        .into_iter()
        .filter(|(_, r)| {
            !list(&r["Properties"]["Tags"])
                .iter()
                .any(|tag| tag["Key"] == KEY_TAG && tag["Value"] == json!({"Ref": "Env"}))
        })
        .map(|(id, _)| format!("{}: KMS key {id} has no {KEY_TAG} tag of !Ref Env.", t.name()))
        .collect()
}

/// CloudFormationRole administers (PutKeyPolicy, ScheduleKeyDeletion,
/// DisableKey, ...) and uses only the keys tagged tandem:env=<env>, creates
/// a key only with that tag, and every key of the templates carries it.
#[test]
fn key_administration_is_held_to_the_environments_tagged_keys() {
    let t = oidc();
    let statements = execution_statements(&t);
    assert_eq!(execution_kms_problems(&statements), Vec::<String>::new());
    let kms: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| actions(s))
        .filter(|a| a.starts_with("kms:"))
        .collect();
    for needed in [
        "kms:CreateKey",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
    ] {
        assert!(
            kms.contains(needed),
            "{needed} is not in the execution policies: this test checks nothing of it"
        );
    }
    let mut keys = 0;
    for file in STACKS {
        let t = Template::load(file);
        keys += t.resources_of("AWS::KMS::Key").len();
        assert_eq!(untagged_keys(&t), Vec::<String>::new());
    }
    assert!(keys > 0, "no KMS key in the stacks: this test checks nothing");

    let loose = [
        json!({"Effect": "Allow", "Action": ["kms:PutKeyPolicy", "kms:ListAliases"], "Resource": "*",
               "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1"]}}}),
        json!({"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*",
               "Condition": {"StringEquals": {"aws:RequestTag/tandem:env": {"Ref": "Env"}}}}),
        json!({"Effect": "Allow", "Action": "kms:DeleteAlias", "Resource": "arn:aws:kms:us-east-1:1:alias/other"}),
    ];
    let problems = execution_kms_problems(&loose.iter().collect::<Vec<_>>());
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems[0].contains("kms:PutKeyPolicy") && problems[2].contains("kms:TagResource"));
    let untagged = parse(
        "untagged.yaml",
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Tags: [{ Key: tandem:env, Value: prod }]\n",
    );
    assert_eq!(untagged_keys(&untagged).len(), 1);
}
