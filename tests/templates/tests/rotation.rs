//! Assertions on the rotation of the database credentials secret in
//! cfn/region.yaml: where it runs, how often, with what function and role,
//! and where it must not run (the replica's region, the local AWS, a region
//! that a failover made the standby).

use serde_json::{Value, json};
use template_tests::{Template, pattern_matches, policy_statements, statement_actions};

fn region() -> Template {
    Template::load("region.yaml")
}

/// The writer's region on AWS while it is the primary, with the function's code uploaded.
const ROTATING: &[(&str, &str)] = &[
    ("Env", "prod"),
    ("Role", "primary"),
    ("DbOrigin", "writer"),
    ("DbRotationCodeKey", "db-rotation/abc.zip"),
];

/// `ROTATING` with one parameter changed.
fn but(name: &str, value: &str) -> Vec<(&'static str, String)> {
    ROTATING
        .iter()
        .map(|(k, v)| (*k, if *k == name { value.to_owned() } else { (*v).to_owned() }))
        .collect()
}

fn rotates(t: &Template, params: &[(&str, String)]) -> bool {
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t.is_created("DbSecretRotation", &t.conditions_for(&params))
}

#[test]
fn the_writers_secret_rotates_every_db_rotation_days_through_the_rotation_function() {
    let t = region();
    assert_eq!(t.type_of("DbSecretRotation"), "AWS::SecretsManager::RotationSchedule");
    let r = t.resolved(ROTATING);
    let schedule = r.properties("DbSecretRotation");
    assert_eq!(schedule["SecretId"], json!({"Ref": "DbSecret"}));
    assert_eq!(
        schedule["RotationLambdaARN"],
        json!({"Fn::GetAtt": ["DbRotationFunction", "Arn"]})
    );
    assert_eq!(
        schedule["RotationRules"],
        json!({"AutomaticallyAfterDays": {"Ref": "DbRotationDays"}})
    );
    assert_eq!(
        schedule["RotateImmediatelyOnUpdate"],
        json!(false),
        "a new schedule is no reason to rotate now"
    );
    assert!(
        schedule.get("HostedRotationLambda").is_none(),
        "the hosted rotation's role has no boundary"
    );
    let after: Vec<&str> = r.resource("DbSecretRotation")["DependsOn"]
        .as_array()
        .expect("DependsOn is a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        after.contains(&"DbSecretAttachment") && after.contains(&"DbRotationInvokedBySecretsManager"),
        "the first rotation needs the secret's host and the invoke permission: {after:?}"
    );
}

#[test]
fn no_transform_but_the_language_extensions() {
    let t = region();
    assert_eq!(
        t.json()["Transform"],
        json!("AWS::LanguageExtensions"),
        "a hosted rotation's transform would need its own deploy grant and a role without a boundary"
    );
}

#[test]
fn rotation_days_default_to_30_and_stay_within_secrets_managers_bounds() {
    let t = region();
    let p = t.parameter("DbRotationDays");
    assert_eq!(p["Default"], json!("30"));
    let pattern = p["AllowedPattern"].as_str().expect("an AllowedPattern");
    for ok in ["1", "7", "30", "365", "999", "1000"] {
        assert!(pattern_matches(pattern, ok).unwrap(), "{pattern} must accept {ok}");
    }
    for bad in ["0", "1001", "030", "-1", "30d", ""] {
        assert!(!pattern_matches(pattern, bad).unwrap(), "{pattern} must refuse {bad:?}");
    }
}

#[test]
fn rotation_runs_only_in_the_writers_region_on_aws_while_it_is_the_primary() {
    let t = region();
    assert!(rotates(&t, &but("Env", "prod")));
    assert!(rotates(&t, &but("Env", "dev")));
    assert!(
        !rotates(&t, &but("DbOrigin", "replica")),
        "the replica's region holds a secret replica, which cannot be rotated"
    );
    assert!(
        !rotates(&t, &but("Role", "standby")),
        "after a failover a rotation would change the old writer's password only"
    );
    assert!(
        !rotates(&t, &but("Env", "local")),
        "the local AWS has no rotation (and no replica)"
    );
    assert!(
        !rotates(&t, &but("DbRotationCodeKey", "")),
        "no function uploaded, no schedule"
    );
    let c = t.conditions_for(ROTATING);
    for id in [
        "DbRotationFunction",
        "DbRotationRole",
        "DbRotationSecurityGroup",
        "DbRotationLogGroup",
        "DbRotationInvokedBySecretsManager",
    ] {
        assert_eq!(
            t.condition_of(id),
            Some("RotateDbSecret"),
            "{id} goes with the schedule"
        );
        assert!(t.is_created(id, &c), "{id}");
    }
}

#[test]
fn only_secrets_manager_of_this_account_invokes_the_rotation_function() {
    let r = region().resolved(ROTATING);
    let p = r.properties("DbRotationInvokedBySecretsManager");
    assert_eq!(p["Principal"], json!("secretsmanager.amazonaws.com"));
    assert_eq!(p["Action"], json!("lambda:InvokeFunction"));
    assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
}

#[test]
fn the_rotation_role_is_bounded_and_touches_the_db_secret_only() {
    let t = region();
    let role = t.properties("DbRotationRole");
    assert_eq!(
        role["PermissionsBoundary"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/tandem-${Env}-boundary"})
    );
    assert!(role.get("ManagedPolicyArns").is_none(), "no attached policy");
    let statements = policy_statements(&t, "DbRotationRole");
    let on_secret: Vec<&Value> = statements
        .iter()
        .filter(|s| {
            statement_actions(s)
                .iter()
                .any(|a| a == "secretsmanager:PutSecretValue")
        })
        .collect();
    assert_eq!(on_secret.len(), 1, "{statements:?}");
    assert_eq!(on_secret[0]["Resource"], json!({"Ref": "DbSecret"}));
    let mut actions = statement_actions(on_secret[0]);
    actions.sort();
    assert_eq!(
        actions,
        [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage"
        ]
    );
    for s in &statements {
        if s["Resource"] == json!("*") {
            for a in statement_actions(s) {
                assert!(
                    a == "ec2:DescribeNetworkInterfaces" || a.starts_with("xray:"),
                    "{a} on \"*\""
                );
            }
        }
    }
}

#[test]
fn the_rotation_function_reaches_the_writer_from_the_private_subnets() {
    let r = region().resolved(ROTATING);
    let f = r.properties("DbRotationFunction");
    assert_eq!(
        f["VpcConfig"],
        json!({
            "SubnetIds": [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}],
            "SecurityGroupIds": [{"Ref": "DbRotationSecurityGroup"}]
        })
    );
    let ingress = r.properties("DbSecurityGroup")["SecurityGroupIngress"]
        .as_array()
        .expect("inline ingress rules")
        .clone();
    assert!(
        ingress.iter().any(
            |rule| rule["SourceSecurityGroupId"] == json!({"Ref": "DbRotationSecurityGroup"})
                && rule["FromPort"] == json!(3306)
        ),
        "the database admits the rotation function: {ingress:?}"
    );
    let unrotated = region().resolved(&[("Env", "prod"), ("Role", "primary"), ("DbOrigin", "writer")]);
    let ingress = unrotated.properties("DbSecurityGroup")["SecurityGroupIngress"].clone();
    assert!(
        !ingress.to_string().contains("DbRotationSecurityGroup"),
        "without rotation the database admits the service only: {ingress}"
    );
}

#[test]
fn the_rotation_function_trusts_the_rds_bundle_its_zip_carries() {
    let r = region().resolved(ROTATING);
    let variables = &r.properties("DbRotationFunction")["Environment"]["Variables"];
    // Lambda unpacks the zip in /var/task; the name is the zip-files entry
    // of functions/db-rotation/Cargo.toml.
    assert_eq!(
        variables["TANDEM_DB_CA_FILE"],
        json!("/var/task/rds-global-bundle.pem"),
        "without the RDS bundle the function's TLS cannot verify the writer's certificate"
    );
    let manifest =
        std::fs::read_to_string(template_tests::repo_root().join("functions/db-rotation/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"rds-global-bundle.pem\""),
        "functions/db-rotation/Cargo.toml no longer ships rds-global-bundle.pem in its zip"
    );
}
