//! Assertions on cfn/bootstrap.yaml: the control plane of one region.

use serde_json::{Value, json};
use template_tests::{Template, name_carries};

fn bootstrap() -> Template {
    Template::load("bootstrap.yaml")
}

/// The statements of every inline policy of a role.
fn role_statements<'a>(t: &'a Template, role: &str) -> Vec<&'a Value> {
    t.properties(role)["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| match &p["PolicyDocument"]["Statement"] {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            single => vec![single],
        })
        .collect()
}

fn actions(statement: &Value) -> Vec<&str> {
    match &statement["Action"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn one_kms_key_that_rotates() {
    let t = bootstrap();
    t.resource_count_is("AWS::KMS::Key", 1);
    t.has_resource_properties("AWS::KMS::Key", &json!({"EnableKeyRotation": true}));
    t.has_resource_properties(
        "AWS::KMS::Alias",
        &json!({"AliasName": {"Fn::Sub": "alias/tandem-${Env}"}, "TargetKeyId": {"Ref": "Key"}}),
    );
    // Logs may use it only for log groups of this account and region.
    t.has_resource_properties(
        "AWS::KMS::Key",
        &json!({"KeyPolicy": {"Statement": [{}, {
            "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}}}}, {}]}}),
    );
}

#[test]
fn artifact_bucket_is_encrypted_versioned_private_and_tls_only() {
    let t = bootstrap();
    t.resource_count_is("AWS::S3::Bucket", 1);
    let buckets = t.has_resource_properties(
        "AWS::S3::Bucket",
        &json!({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault":
                {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}}}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true,
                                               "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        }),
    );
    let bucket = buckets[0].as_str();
    t.has_resource_properties(
        "AWS::S3::BucketPolicy",
        &json!({"Bucket": {"Ref": bucket}, "PolicyDocument": {"Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": format!("${{{bucket}.Arn}}/*")}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}),
    );
}

#[test]
fn ops_topic_and_dead_letter_queue_are_encrypted_with_the_key() {
    let t = bootstrap();
    t.resource_count_is("AWS::SNS::Topic", 1);
    t.has_resource_properties(
        "AWS::SNS::Topic",
        &json!({"TopicName": {"Fn::Sub": "tandem-${Env}-ops"}, "KmsMasterKeyId": {"Ref": "Key"}}),
    );
    t.resource_count_is("AWS::SQS::Queue", 1);
    t.has_resource_properties(
        "AWS::SQS::Queue",
        &json!({"QueueName": {"Fn::Sub": "tandem-${Env}-dlq"}, "KmsMasterKeyId": {"Ref": "Key"},
                "MessageRetentionPeriod": 1_209_600}),
    );
}

#[test]
fn state_table_has_point_in_time_recovery_and_kms_encryption() {
    let t = bootstrap();
    t.resource_count_is("AWS::DynamoDB::Table", 1);
    t.has_resource_properties(
        "AWS::DynamoDB::Table",
        &json!({
            "TableName": {"Fn::Sub": "tandem-${Env}-state"},
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
            "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": {"Ref": "Key"}},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
        }),
    );
    assert_eq!(t.type_of("StateTable"), "AWS::DynamoDB::Table");
    assert_eq!(t.output("StateTableName")["Value"], json!({"Ref": "StateTable"}));
}

fn topology_function(t: &Template) -> String {
    let ids = t.has_resource_properties(
        "AWS::Lambda::Function",
        &json!({"FunctionName": {"Fn::Sub": "tandem-${Env}-topology"}}),
    );
    assert_eq!(ids.len(), 1);
    ids[0].clone()
}

#[test]
fn topology_function_is_a_provided_al2023_bootstrap_on_arm64_except_locally() {
    let t = bootstrap();
    let f = topology_function(&t);
    t.has_resource_properties(
        "AWS::Lambda::Function",
        &json!({"Runtime": "provided.al2023", "Handler": "bootstrap", "TracingConfig": {"Mode": "Active"},
                "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}),
    );
    for (env, arch) in [("dev", "arm64"), ("prod", "arm64"), ("local", "x86_64")] {
        let c = t.conditions_for(&[("Env", env), ("TopologyCodeKey", "topology.zip")]);
        assert!(t.is_created(&f, &c), "the function exists once its code is uploaded");
        let p = t.resolve(t.properties(&f), &c);
        assert_eq!(p["Architectures"], json!([arch]), "Env={env}");
    }
    // On the first deploy there is no code yet, so no function and no export of it.
    let first = t.conditions_for(&[("Env", "dev")]);
    assert!(!t.is_created(&f, &first));
    assert_eq!(
        t.output("TopologyFunctionArn")["Condition"],
        json!(t.condition_of(&f).unwrap())
    );
}

#[test]
fn topology_function_has_its_own_role_a_dead_letter_queue_and_a_log_group() {
    let t = bootstrap();
    let f = topology_function(&t);
    let p = t.properties(&f);

    let role = p["Role"]["Fn::GetAtt"][0].as_str().expect("Role: !GetAtt <role>.Arn");
    assert_eq!(p["Role"]["Fn::GetAtt"][1], "Arn");
    assert_eq!(t.type_of(role), "AWS::IAM::Role");
    let users: Vec<&str> = t
        .resources_of("AWS::Lambda::Function")
        .into_iter()
        .filter(|(_, r)| r["Properties"]["Role"]["Fn::GetAtt"][0] == role)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(users, [f.as_str()], "the role is the topology function's alone");
    t.has_resource_properties(
        "AWS::IAM::Role",
        &json!({"AssumeRolePolicyDocument": {"Statement": [{"Principal": {"Service": "lambda.amazonaws.com"},
                                                             "Action": "sts:AssumeRole"}]}}),
    );

    let dlq = p["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        .as_str()
        .expect("a dead-letter queue");
    assert_eq!(t.type_of(dlq), "AWS::SQS::Queue");
    let statements = role_statements(&t, role);
    assert!(
        statements
            .iter()
            .any(|s| actions(s).contains(&"sqs:SendMessage") && s["Resource"] == json!({"Fn::GetAtt": [dlq, "Arn"]})),
        "the role may send to its dead-letter queue"
    );

    let logs = p["LoggingConfig"]["LogGroup"]["Ref"]
        .as_str()
        .expect("LoggingConfig.LogGroup: !Ref <group>");
    assert_eq!(t.type_of(logs), "AWS::Logs::LogGroup");
    let group = t.properties(logs);
    assert_eq!(
        group["LogGroupName"],
        json!({"Fn::Sub": "/aws/lambda/tandem-${Env}-topology"})
    );
    assert_eq!(group["RetentionInDays"], json!({"Ref": "LogRetentionDays"}));
    assert_eq!(t.parameter("LogRetentionDays")["Default"], json!(30));
    assert!(
        statements.iter().any(|s| actions(s).contains(&"logs:PutLogEvents")
            && s["Resource"] == json!({"Fn::Sub": format!("${{{logs}.Arn}}:*")})),
        "the role writes to its own log group only"
    );
}

#[test]
fn exports_name_the_environment() {
    let t = bootstrap();
    let exports = t.exports();
    for (output, name) in [
        ("TopologyFunctionArn", "tandem-${Env}-topology-arn"),
        ("KeyArn", "tandem-${Env}-key-arn"),
        ("OpsTopicArn", "tandem-${Env}-ops-topic-arn"),
        ("StateTableName", "tandem-${Env}-state-table"),
    ] {
        assert_eq!(exports.get(output), Some(&json!({"Fn::Sub": name})), "output {output}");
    }
    assert_eq!(
        t.output("TopologyFunctionArn")["Value"],
        json!({"Fn::GetAtt": ["TopologyFunction", "Arn"]})
    );
    assert_eq!(t.output("KeyArn")["Value"], json!({"Fn::GetAtt": ["Key", "Arn"]}));
    for (output, name) in &exports {
        assert!(
            name_carries(name, "Env"),
            "export of {output} must carry ${{Env}}: {name}"
        );
    }
}

#[test]
fn every_iam_role_name_carries_the_region_and_env() {
    let t = bootstrap();
    let roles = t.resources_of("AWS::IAM::Role");
    assert!(!roles.is_empty());
    for (id, r) in roles {
        let name = &r["Properties"]["RoleName"];
        assert!(
            name_carries(name, "AWS::Region"),
            "{id}: IAM is global, the role name needs the region: {name}"
        );
        assert!(name_carries(name, "Env"), "{id}: {name}");
    }
}

#[test]
fn every_named_resource_carries_env_in_its_name() {
    let t = bootstrap();
    let named = t.named_resources();
    assert!(named.len() >= 7, "{named:?}");
    for (id, prop, name) in named {
        assert!(
            name_carries(name, "Env"),
            "{id}.{prop} = {name} does not carry ${{Env}}"
        );
    }
}

#[test]
fn every_reference_points_at_something_created_in_the_same_scenario() {
    let problems = bootstrap().dangling_references();
    assert!(problems.is_empty(), "dangling references:\n{}", problems.join("\n"));
}

/// Lambda refuses to create a function with active tracing whose role may
/// not write traces ("The provided execution role does not have permissions
/// to call PutTraceSegments on XRAY").
#[test]
fn every_traced_function_may_write_traces() {
    let t = bootstrap();
    let traced = t.find_resources("AWS::Lambda::Function", &json!({"TracingConfig": {"Mode": "Active"}}));
    assert!(!traced.is_empty());
    for (id, f) in traced {
        let role = f["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .expect("Role: !GetAtt <role>.Arn");
        let granted: Vec<&str> = role_statements(&t, role)
            .into_iter()
            .filter(|s| s["Effect"] == "Allow" && s["Resource"] == "*")
            .flat_map(actions)
            .collect();
        for needed in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
            assert!(
                granted.contains(&needed),
                "{id} traces, but its role {role} may not call {needed}"
            );
        }
    }
}
