//! Ops alerts to a chat webhook (issue 23 §3): no HTTPS subscription (a
//! webhook cannot confirm one); the region stack's notify function, only
//! when a webhook is configured, subscribed to the ops topic; the webhook's
//! URL in a KMS-encrypted secret that the function's role alone may read.

use serde_json::{Value, json};
use template_tests::{Template, policy_statements as statements, statement_actions as actions};

const WEBHOOK: &str = "https://hooks.example.com/services/T0/B0/x";

fn region(webhook: &str, code: &str) -> Template {
    Template::load("region.yaml").resolved(&[
        ("Env", "prod"),
        ("Role", "primary"),
        ("DbOrigin", "writer"),
        ("CertificateArn", "arn:aws:acm:us-east-1:1:certificate/x"),
        ("NotifyCodeKey", code),
        ("OpsWebhookUrl", webhook),
    ])
}

const NOTIFY_RESOURCES: [&str; 6] = [
    "NotifyLogGroup",
    "NotifyRole",
    "NotifyFunction",
    "NotifyFromOpsTopic",
    "NotifyInvokedByTopic",
    "OpsWebhookSecret",
];

#[test]
fn no_template_subscribes_an_https_endpoint_to_a_topic() {
    for file in ["bootstrap.yaml", "region.yaml", "global.yaml"] {
        let t = Template::load(file);
        for (id, sub) in t.resources_of("AWS::SNS::Subscription") {
            let protocol = sub["Properties"]["Protocol"].as_str().unwrap_or_default();
            assert!(
                !["http", "https"].contains(&protocol),
                "{file}: {id} subscribes {protocol}, which a chat webhook can never confirm"
            );
        }
        assert!(
            t.parameters().get("OpsWebhookUrl").is_none() || file == "region.yaml",
            "{file}"
        );
    }
}

#[test]
fn the_forwarder_exists_only_with_a_webhook_and_its_code() {
    let t = Template::load("region.yaml");
    for id in &NOTIFY_RESOURCES[..5] {
        assert_eq!(t.condition_of(id), Some("Notifies"), "{id}");
    }
    assert_eq!(t.condition_of("OpsWebhookSecret"), Some("HasOpsWebhook"));
    assert_eq!(t.output("NotifyFunctionName")["Condition"], "Notifies");
    assert_eq!(
        t.json()["Conditions"]["Notifies"],
        json!({"Fn::And": [{"Condition": "HasOpsWebhook"}, {"Condition": "HasNotifyCode"}]})
    );
    let none = region("", "notify/abc.zip");
    let no_code = region(WEBHOOK, "");
    let both = region(WEBHOOK, "notify/abc.zip");
    for id in NOTIFY_RESOURCES {
        assert!(none.resources().get(id).is_none(), "{id} without a webhook");
        assert!(both.resources().get(id).is_some(), "{id} with one");
    }
    assert!(no_code.resources().get("NotifyFunction").is_none());
    let url = t.parameter("OpsWebhookUrl");
    assert_eq!(url["NoEcho"], true, "the URL is a credential");
    assert_eq!(url["Default"], "");
}

#[test]
fn the_forwarder_takes_every_message_of_the_ops_topic() {
    let t = region(WEBHOOK, "notify/abc.zip");
    let topic = json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-ops-topic-arn"}});
    let sub = t.properties("NotifyFromOpsTopic");
    assert_eq!(sub["Protocol"], "lambda");
    assert_eq!(sub["TopicArn"], topic);
    assert_eq!(sub["Endpoint"], json!({"Fn::GetAtt": ["NotifyFunction", "Arn"]}));
    assert!(sub.get("FilterPolicy").is_none(), "alarms and tandem's decisions alike");
    let allow = t.properties("NotifyInvokedByTopic");
    assert_eq!(
        (&allow["Principal"], &allow["SourceArn"]),
        (&json!("sns.amazonaws.com"), &topic)
    );
    let f = t.properties("NotifyFunction");
    assert_eq!(
        f["Environment"]["Variables"]["TANDEM_WEBHOOK_SECRET_ARN"],
        json!({"Ref": "OpsWebhookSecret"})
    );
    assert!(
        !f.to_string().contains("OpsWebhookUrl"),
        "the URL reaches the function only through the secret"
    );
    assert_eq!(
        f["DeadLetterConfig"]["TargetArn"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-dlq-arn"}})
    );
    assert_eq!(f["LoggingConfig"]["LogGroup"], json!({"Ref": "NotifyLogGroup"}));
    let logs = t.properties("NotifyLogGroup");
    assert_eq!(
        logs["LogGroupName"],
        json!({"Fn::Sub": "/aws/lambda/tandem-${Env}-notify"})
    );
    assert_eq!(logs["RetentionInDays"], 30);
    assert_eq!(
        logs["KmsKeyId"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-key-arn"}})
    );
}

#[test]
fn the_secret_is_encrypted_with_the_environment_s_key() {
    let t = region(WEBHOOK, "notify/abc.zip");
    let secret = t.properties("OpsWebhookSecret");
    assert_eq!(
        secret["KmsKeyId"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-key-arn"}})
    );
    assert_eq!(secret["SecretString"], json!({"Ref": "OpsWebhookUrl"}));
}

#[test]
fn its_role_reads_the_secret_alone_and_the_key_only_through_its_services() {
    let t = region(WEBHOOK, "notify/abc.zip");
    let all = statements(&t, "NotifyRole");
    let with =
        |action: &str| -> Vec<&Value> { all.iter().filter(|s| actions(s).iter().any(|a| a == action)).collect() };
    let secret = with("secretsmanager:GetSecretValue");
    assert_eq!(secret.len(), 1);
    assert_eq!(
        secret[0]["Resource"],
        json!({"Ref": "OpsWebhookSecret"}),
        "that secret's ARN, nothing wider"
    );
    let kms = with("kms:Decrypt");
    assert_eq!(kms.len(), 1);
    let via = &kms[0]["Condition"]["StringEquals"]["kms:ViaService"];
    assert!(
        via.to_string().contains("secretsmanager.${AWS::Region}.amazonaws.com"),
        "{via}"
    );
    assert_eq!(
        kms[0]["Resource"],
        json!({"Fn::ImportValue": {"Fn::Sub": "tandem-${Env}-key-arn"}})
    );
    assert_eq!(
        with("logs:PutLogEvents")[0]["Resource"],
        json!({"Fn::Sub": "${NotifyLogGroup.Arn}:*"})
    );
    let every: Vec<String> = all.iter().flat_map(actions).collect();
    for never in [
        "sns:Publish",
        "secretsmanager:PutSecretValue",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
    ] {
        assert!(
            !every.iter().any(|a| a == never),
            "{never}: it posts and audits, nothing more"
        );
    }
    let role = t.properties("NotifyRole");
    assert_eq!(
        role["PermissionsBoundary"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/tandem-${Env}-boundary"})
    );
}
