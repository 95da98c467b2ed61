//! Assertions on cfn/github-oidc.yaml: GitHub's OIDC provider, the deploy
//! role GitHub Actions takes, and the role CloudFormation acts as.

use serde_json::{Value, json};
use template_tests::{Template, github_oidc_for, one_or_many as list};

fn oidc() -> Template {
    Template::load("github-oidc.yaml")
}

fn for_env(env: &str) -> Template {
    github_oidc_for(env)
}

fn strings(value: &Value) -> Vec<&str> {
    list(value).into_iter().filter_map(Value::as_str).collect()
}

/// The statements of a role's inline policies.
fn inline_statements<'a>(t: &'a Template, role: &str) -> Vec<&'a Value> {
    list(&t.properties(role)["Policies"])
        .into_iter()
        .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
        .collect()
}

/// The statements of the managed policies attached to `role`.
fn managed_statements<'a>(t: &'a Template, role: &str) -> Vec<&'a Value> {
    t.resources_of("AWS::IAM::ManagedPolicy")
        .into_iter()
        .filter(|(_, r)| list(&r["Properties"]["Roles"]).contains(&&json!({"Ref": role})))
        .flat_map(|(_, r)| list(&r["Properties"]["PolicyDocument"]["Statement"]))
        .collect()
}

fn trust<'a>(t: &'a Template, role: &str) -> Vec<&'a Value> {
    list(&t.properties(role)["AssumeRolePolicyDocument"]["Statement"])
}

#[test]
fn the_deploy_role_trusts_only_this_repositorys_main_branch_for_dev() {
    let t = for_env("dev");
    let statements = trust(&t, "DeployRole");
    assert_eq!(statements.len(), 1);
    let s = statements[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(s["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(s["Principal"], json!({"Federated": {"Ref": "GitHubOidcProvider"}}));
    // Exact matches only: no StringLike, so no wildcard can widen it.
    assert_eq!(
        s["Condition"],
        json!({"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": {"Fn::Sub": "repo:${GitHubRepository}:ref:refs/heads/main"},
        }})
    );
}

#[test]
fn the_prod_deploy_role_trusts_only_the_production_environment() {
    let t = for_env("prod");
    let s = trust(&t, "DeployRole")[0];
    assert_eq!(
        s["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!({"Fn::Sub": "repo:${GitHubRepository}:environment:production"})
    );
    assert_eq!(s["Condition"].as_object().unwrap().len(), 1, "only StringEquals");
}

#[test]
fn the_provider_is_made_once_per_account_and_otherwise_reused() {
    let made = for_env("dev");
    made.resource_count_is("AWS::IAM::OIDCProvider", 1);
    made.has_resource_properties(
        "AWS::IAM::OIDCProvider",
        &json!({"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]}),
    );
    let existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    let reused = oidc().resolved(&[
        ("Env", "prod"),
        ("GitHubRepository", "acme/tandem"),
        ("OidcProviderArn", existing),
        ("PrimaryRegion", "us-east-1"),
        ("StandbyRegion", "us-east-2"),
    ]);
    reused.resource_count_is("AWS::IAM::OIDCProvider", 0);
    assert_eq!(
        trust(&reused, "DeployRole")[0]["Principal"],
        json!({"Federated": {"Ref": "OidcProviderArn"}})
    );
}

#[test]
fn the_deploy_role_changes_stacks_only_as_the_cloudformation_role() {
    let t = for_env("dev");
    let statements = inline_statements(&t, "DeployRole");
    let writes = ["cloudformation:CreateChangeSet", "cloudformation:DeleteStack"];
    for s in &statements {
        let actions = strings(&s["Action"]);
        for action in &actions {
            assert!(
                !["cloudformation:CreateStack", "cloudformation:UpdateStack"].contains(action),
                "the deploy role may {action}, which bypasses change sets and the service role"
            );
        }
        // A transform's ARN names no stack: the request must be allowed on
        // the stack too, and that statement holds it to the role.
        let on_transforms_only = list(&s["Resource"])
            .iter()
            .all(|r| r.to_string().contains(":aws:transform/"));
        if actions.iter().any(|a| writes.contains(a)) && !on_transforms_only {
            assert_eq!(
                s["Condition"],
                json!({"StringEquals": {"cloudformation:RoleArn": {"Fn::GetAtt": ["CloudFormationRole", "Arn"]}}}),
                "{s}"
            );
        }
    }
    let pass: Vec<_> = statements
        .iter()
        .filter(|s| strings(&s["Action"]).contains(&"iam:PassRole"))
        .collect();
    assert_eq!(pass.len(), 1);
    assert_eq!(
        pass[0]["Resource"],
        json!({"Fn::GetAtt": ["CloudFormationRole", "Arn"]})
    );
    assert_eq!(
        pass[0]["Condition"],
        json!({"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}})
    );
}

#[test]
fn every_deploy_role_resource_belongs_to_the_environment() {
    let t = for_env("dev");
    for s in inline_statements(&t, "DeployRole") {
        assert_eq!(s["Effect"], "Allow");
        for resource in list(&s["Resource"]) {
            if resource == "*" {
                assert_eq!(strings(&s["Action"]), ["ecr:GetAuthorizationToken"], "{s}");
                continue;
            }
            let text = resource.to_string();
            if text.contains(":aws:transform/") {
                // AWS's own transforms (see the transform test below), for change sets only.
                assert_eq!(strings(&s["Action"]), ["cloudformation:CreateChangeSet"], "{s}");
                continue;
            }
            assert!(
                text.contains("tandem-${Env}")
                    || text.contains("log-group:/tandem/${Env}/")
                    || text.contains("key/*")
                    || text.contains("CloudFormationRole"),
                "a deploy-role resource outside the environment: {text}"
            );
        }
        // No IAM action but passing the CloudFormation role.
        for action in strings(&s["Action"]) {
            assert!(!action.starts_with("iam:") || action == "iam:PassRole", "{action}");
        }
    }
}

/// The templates in cfn/ (or `$TANDEM_CFN_DIR`), by file name.
fn every_template() -> Vec<Template> {
    let dir = std::env::var_os("TANDEM_CFN_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| template_tests::repo_root().join("cfn"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    files.iter().map(|f| Template::load(f)).collect()
}

/// The transforms a template declares: `Transform` is one name, a list of
/// names, or (for AWS::Include) a map with a `Name`.
fn transforms(t: &Template) -> Vec<String> {
    let named = |v: &Value| v.as_str().or_else(|| v["Name"].as_str()).map(str::to_owned);
    match t.json().get("Transform") {
        None => Vec::new(),
        Some(Value::Array(many)) => many.iter().filter_map(named).collect(),
        Some(one) => named(one).into_iter().collect(),
    }
}

/// A template with a `Transform` makes CreateChangeSet authorised against
/// the transform's ARN as well as the stack's
/// (`arn:<partition>:cloudformation:<region>:aws:transform/<name>`), so CI's
/// change sets of it are refused unless the deploy role allows that ARN in
/// both of the environment's regions. The local AWS checks no IAM.
#[test]
fn the_deploy_role_may_create_change_sets_through_every_transform_a_template_declares() {
    let t = for_env("dev");
    let change_sets: Vec<Value> = inline_statements(&t, "DeployRole")
        .into_iter()
        .filter(|s| s["Effect"] == "Allow" && strings(&s["Action"]).contains(&"cloudformation:CreateChangeSet"))
        .flat_map(|s| list(&s["Resource"]).into_iter().cloned().collect::<Vec<_>>())
        .collect();
    let mut declared = 0;
    for template in every_template() {
        for transform in transforms(&template) {
            declared += 1;
            let name = transform.strip_prefix("AWS::").unwrap_or_else(|| {
                panic!(
                    "{}: transform {transform} is not AWS's: name its ARN (the macro's account) in the deploy role and here",
                    template.name()
                )
            });
            for region in ["PrimaryRegion", "StandbyRegion"] {
                let arn = json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:cloudformation:${{{region}}}:aws:transform/{name}")});
                assert!(
                    change_sets.contains(&arn),
                    "{} declares Transform {transform}: the deploy role's CreateChangeSet needs {arn} ({region}), or every CI change set of it is refused",
                    template.name()
                );
            }
        }
    }
    assert!(
        declared > 0,
        "no template declares a transform: this test checks nothing"
    );
}

#[test]
fn the_cloudformation_role_is_for_cloudformation_only() {
    let t = for_env("prod");
    let statements = trust(&t, "CloudFormationRole");
    assert_eq!(statements.len(), 1);
    assert_eq!(
        statements[0]["Principal"],
        json!({"Service": "cloudformation.amazonaws.com"})
    );
    assert_eq!(statements[0]["Action"], "sts:AssumeRole");
    // It invokes the topology function (the custom resources) and nothing else
    // by hand; its inline Denies are boundary.rs's.
    let invoke: Vec<&Value> = inline_statements(&t, "CloudFormationRole")
        .into_iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(invoke.len(), 1);
    assert_eq!(strings(&invoke[0]["Action"]), ["lambda:InvokeFunction"]);
    for r in list(&invoke[0]["Resource"]) {
        assert!(r.to_string().contains("function:tandem-${Env}-topology"), "{r}");
    }
}

#[test]
fn the_execution_policies_hold_iam_and_s3_to_the_environment_and_the_rest_to_its_regions() {
    let t = for_env("dev");
    let statements = managed_statements(&t, "CloudFormationRole");
    assert!(
        statements.len() >= 15,
        "one statement per service: {}",
        statements.len()
    );
    let mut services = Vec::new();
    for s in &statements {
        assert_eq!(s["Effect"], "Allow");
        let actions = strings(&s["Action"]);
        let service = actions[0].split(':').next().unwrap();
        assert!(actions.iter().all(|a| a.starts_with(&format!("{service}:"))), "{s}");
        assert!(actions.iter().all(|a| !a.contains('*')), "named actions only: {s}");
        services.push(service);
        match service {
            // The role changes only on tandem-<env>-* (boundary.rs holds their condition).
            "iam" => {
                let roles = json!([
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/tandem-${Env}-*"},
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/*"},
                ]);
                assert!(s["Resource"] == roles || s["Resource"] == json!([roles[0]]), "{s}")
            }
            "s3" => assert_eq!(
                s["Resource"],
                json!([
                    {"Fn::Sub": "arn:${AWS::Partition}:s3:::tandem-${Env}-*"},
                    {"Fn::Sub": "arn:${AWS::Partition}:s3:::tandem-${Env}-*/*"},
                ])
            ),
            // The environment's alias by its ARN (boundary.rs); every other KMS
            // statement is on "*", held to the regions as well as to the key tag.
            "kms" if s["Resource"] != json!(["*"]) => {
                for r in list(&s["Resource"]) {
                    assert!(r.to_string().contains(":alias/tandem-${Env}"), "{s}");
                }
            }
            "kms" => assert_eq!(
                s["Condition"]["StringEquals"]["aws:RequestedRegion"],
                json!([{"Ref": "PrimaryRegion"}, {"Ref": "StandbyRegion"}, "us-east-1"]),
                "{s}"
            ),
            _ => assert_eq!(
                s["Condition"],
                json!({"StringEquals": {"aws:RequestedRegion": [{"Ref": "PrimaryRegion"}, {"Ref": "StandbyRegion"}, "us-east-1"]}}),
                "{s}"
            ),
        }
    }
    for needed in [
        "ec2",
        "ecs",
        "rds",
        "iam",
        "lambda",
        "kms",
        "route53",
        "codedeploy",
        "wafv2",
    ] {
        assert!(services.contains(&needed), "no {needed} statement in {services:?}");
    }
    // RegisterTaskDefinition takes the task-definition resource type: the
    // stacks' one family (region.yaml's TaskDefinition), in the two regions.
    let register: Vec<&&Value> = statements
        .iter()
        .filter(|s| strings(&s["Action"]).contains(&"ecs:RegisterTaskDefinition"))
        .collect();
    assert_eq!(register.len(), 1, "{register:?}");
    assert_eq!(strings(&register[0]["Action"]), ["ecs:RegisterTaskDefinition"]);
    assert_eq!(
        register[0]["Resource"],
        json!([
            {"Fn::Sub": "arn:${AWS::Partition}:ecs:${PrimaryRegion}:${AWS::AccountId}:task-definition/tandem-${Env}-app:*"},
            {"Fn::Sub": "arn:${AWS::Partition}:ecs:${StandbyRegion}:${AWS::AccountId}:task-definition/tandem-${Env}-app:*"},
        ])
    );
    let families: Vec<Value> = Template::load("region.yaml")
        .resources_of("AWS::ECS::TaskDefinition")
        .into_iter()
        .map(|(_, r)| r["Properties"]["Family"].clone())
        .collect();
    assert_eq!(
        families,
        [json!({"Fn::Sub": "tandem-${Env}-app"})],
        "the family the statement names"
    );
    // Neither CI role is a role the execution policies may edit: both are
    // named tandem-ci-<env>-*, outside role/tandem-<env>-*.
    for role in ["DeployRole", "CloudFormationRole"] {
        assert_eq!(
            t.properties(role)["RoleName"],
            json!({"Fn::Sub": format!("tandem-ci-${{Env}}-{}", if role == "DeployRole" { "deploy" } else { "cloudformation" })})
        );
    }
    // No IAM users, access keys or policy versions.
    let all: Vec<&str> = statements.iter().flat_map(|s| strings(&s["Action"])).collect();
    for forbidden in [
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:CreatePolicyVersion",
        "iam:AttachUserPolicy",
    ] {
        assert!(!all.contains(&forbidden), "{forbidden}");
    }
}

#[test]
fn the_outputs_are_the_repository_variables() {
    let t = for_env("dev");
    assert_eq!(
        t.output("DeployRoleArn")["Value"],
        json!({"Fn::GetAtt": ["DeployRole", "Arn"]})
    );
    assert_eq!(
        t.output("CloudFormationRoleArn")["Value"],
        json!({"Fn::GetAtt": ["CloudFormationRole", "Arn"]})
    );
    assert_eq!(
        t.output("OidcProviderArn")["Value"],
        json!({"Ref": "GitHubOidcProvider"})
    );
}

/// The execution policies reach IAM roles and S3 buckets by name
/// (`tandem-<env>-*`): every one the stacks make must carry that prefix, or a
/// real deploy as CloudFormationRole is refused where the local AWS is not.
#[test]
fn every_role_and_bucket_the_stacks_make_is_in_the_execution_roles_reach() {
    for file in ["bootstrap.yaml", "region.yaml", "global.yaml"] {
        let t = Template::load(file);
        for (kind, property) in [("AWS::IAM::Role", "RoleName"), ("AWS::S3::Bucket", "BucketName")] {
            for (id, resource) in t.resources_of(kind) {
                let name = &resource["Properties"][property];
                // `!Sub "..."`, or `!Sub ["...", {variables}]`.
                let sub = &name["Fn::Sub"];
                let text = sub.as_str().or_else(|| sub[0].as_str()).unwrap_or_default();
                assert!(
                    text.starts_with("tandem-${Env}-"),
                    "{file}: {id} ({kind}) is named {name}, not tandem-${{Env}}-*: CloudFormationRole could not manage it"
                );
            }
        }
    }
}

/// CloudFormation invokes the custom resources' function as CloudFormationRole,
/// which may invoke only tandem-<env>-topology.
#[test]
fn every_custom_resource_is_served_by_the_topology_function() {
    for file in ["bootstrap.yaml", "region.yaml", "global.yaml"] {
        let t = Template::load(file);
        for (id, resource) in t.resources() {
            if resource["Type"].as_str().is_some_and(|k| k.starts_with("Custom::")) {
                assert_eq!(
                    resource["Properties"]["ServiceToken"],
                    json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-topology-arn"}}),
                    "{file}: {id}"
                );
            }
        }
    }
}
