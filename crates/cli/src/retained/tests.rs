//! Tests of [`RETAINED`] against cfn/ (every kept resource is in it, with
//! its name, its environments and its condition), and of the pure
//! decisions: which names a deploy looks for, what it says when one is
//! there, and what a destroy lists.

use super::*;
use template_tests::{NAME_PROPERTIES, Params, Template as Cfn};

/// The CloudFormation resource type of each kind.
fn resource_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Table => "AWS::DynamoDB::Table",
        Kind::Queue => "AWS::SQS::Queue",
        Kind::LogGroup => "AWS::Logs::LogGroup",
        Kind::Secret => "AWS::SecretsManager::Secret",
        Kind::Bucket => "AWS::S3::Bucket",
        Kind::Key => "AWS::KMS::Key",
        Kind::Replication => "AWS::ECR::ReplicationConfiguration",
    }
}

/// Each template, with the parameters its conditions need besides those varied.
fn templates() -> Vec<(Template, Cfn)> {
    [Template::Bootstrap, Template::Region, Template::Global]
        .into_iter()
        .map(|t| (t, Cfn::load(t.path().trim_start_matches("cfn/"))))
        .collect()
}

/// The parameters of a region stack's scenario: the writer's region on AWS.
fn base_params(t: &Cfn, env: &str) -> Vec<(&'static str, String)> {
    let mut p = vec![("Env", env.to_owned())];
    if t.parameters().contains_key("DbOrigin") {
        let cert = if env == "local" {
            ""
        } else {
            "arn:aws:acm:us-east-1:111122223333:certificate/x"
        };
        p.extend([
            ("Role", "primary".to_owned()),
            ("DbOrigin", "writer".to_owned()),
            ("CertificateArn", cert.to_owned()),
        ]);
    }
    p
}

/// The environments whose stacks keep resource `id` of `t` when deleted.
fn kept_in(t: &Cfn, id: &str) -> Vec<&'static str> {
    let policy = &t.resource(id)["DeletionPolicy"];
    ["local", "dev", "prod"]
        .into_iter()
        .filter(|env| {
            if !policy.is_object() {
                return policy == "Retain";
            }
            let params = base_params(t, env);
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let conditions = t.conditions_for(&params);
            t.resolve(policy, &conditions) == "Retain"
        })
        .collect()
}

#[test]
fn every_resource_a_delete_keeps_is_in_the_table_with_its_environments_and_type() {
    let mut listed = 0;
    for (template, t) in templates() {
        for id in t.resources().keys() {
            let envs = kept_in(&t, id);
            let entry = RETAINED.iter().find(|r| r.template == template && r.logical_id == id);
            let Some(entry) = entry else {
                assert!(
                    envs.is_empty(),
                    "{}: {id} is kept in {envs:?} but not in RETAINED",
                    t.name()
                );
                continue;
            };
            listed += 1;
            let want: &[&str] = match entry.kept {
                Kept::Prod => &["prod"],
                Kept::NotLocal => &["dev", "prod"],
                Kept::Always => &["local", "dev", "prod"],
            };
            assert_eq!(envs, want, "{}: {id}'s DeletionPolicy against RETAINED", t.name());
            assert_eq!(t.type_of(id), resource_type(entry.kind), "{id}");
            for env in ["local", "dev", "prod"] {
                assert_eq!(entry.kept.in_env(env), want.contains(&env), "{id} in {env}");
            }
        }
    }
    assert_eq!(listed, RETAINED.len(), "an entry of RETAINED is in no template");
}

#[test]
fn each_name_is_the_templates_and_an_unnamed_entry_cannot_collide() {
    for (template, t) in templates() {
        for entry in RETAINED.iter().filter(|r| r.template == template) {
            let ty = t.type_of(entry.logical_id);
            let property = NAME_PROPERTIES.iter().find(|(k, _)| *k == ty).map(|(_, p)| *p);
            let name = property.and_then(|p| t.properties(entry.logical_id).get(p));
            match entry.name {
                Some(pattern) => assert_eq!(
                    name,
                    Some(&serde_json::json!({"Fn::Sub": pattern.replace("{env}", "${Env}")})),
                    "{}",
                    entry.logical_id
                ),
                None => assert!(
                    name.is_none_or(|n| n.to_string().contains("AWS::StackId")),
                    "{} has a name no stack id makes unique, so it needs one in RETAINED: {name:?}",
                    entry.logical_id
                ),
            }
        }
    }
    let dlq = RETAINED.iter().find(|r| r.logical_id == "DeadLetterQueue").unwrap();
    assert_eq!(dlq.name_in("prod").as_deref(), Some("tandem-prod-dlq"));
}

/// Every combination of the values the conditions read, with the
/// parameters no condition of the table depends on held to one value.
fn scenarios(t: &Cfn) -> Vec<Params> {
    let fixed = [
        ("CertificateArn", "arn:aws:acm:us-east-1:111122223333:certificate/x"),
        ("ImageTag", ""),
        ("DeployHookCodeKey", "x"),
        ("RollbackCodeKey", "x"),
        ("FailoverCodeKey", "x"),
        ("DbRotationCodeKey", "x"),
        ("HealthUrl", ""),
        ("PeerHealthUrl", ""),
        ("ServiceExists", "true"),
        ("TopologyCodeKey", "x"),
        ("OpsEmail", ""),
    ];
    let fixed: Vec<(&str, &str)> = fixed
        .into_iter()
        .filter(|(k, _)| t.parameters().contains_key(*k))
        .collect();
    let all = t.condition_scenarios(&fixed);
    assert!(
        all.len() < 5000,
        "{}: {} scenarios; fix more parameters",
        t.name(),
        all.len()
    );
    all
}

#[test]
fn when_a_stack_makes_each_kept_resource_and_its_replica_matches_the_template() {
    for (template, t) in templates() {
        for params in scenarios(&t) {
            let conditions = t.evaluate_conditions(&params).unwrap();
            for entry in RETAINED.iter().filter(|r| r.template == template) {
                let id = entry.logical_id;
                let made = t.is_created(id, &conditions);
                assert_eq!(entry.when.holds(&params), made, "{id} with {params:?}");
                if !made {
                    continue;
                }
                let replicas = t.resolve(&t.properties(id)["ReplicaRegions"], &conditions);
                let replicated = replicas.as_array().is_some_and(|a| !a.is_empty());
                assert_eq!(
                    entry.replica.is_some_and(|w| w.holds(&params)),
                    replicated,
                    "{id}'s replica with {params:?}: {replicas}"
                );
            }
        }
    }
}

/// A parameter map from pairs.
fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// A prod stack of `template` in `region`, with `extra` parameters.
fn spec(template: Template, region: &str, extra: &[(&str, &str)]) -> StackSpec {
    let mut p = params(&[("Env", "prod")]);
    p.extend(params(extra));
    StackSpec {
        template,
        name: format!("tandem-prod-{}", template.part()),
        region: region.into(),
        parameters: p,
    }
}

/// The writer's region stack in us-east-1, its peer us-east-2.
fn writer() -> StackSpec {
    spec(
        Template::Region,
        "us-east-1",
        &[("Role", "primary"), ("DbOrigin", "writer"), ("PeerRegion", "us-east-2")],
    )
}

/// (region, name) of each probe.
fn looked_for(probes: &[Probe]) -> Vec<(String, String)> {
    probes.iter().map(|p| (p.region.clone(), p.name.clone())).collect()
}

/// Owned (region, name) pairs.
fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(r, n)| ((*r).to_owned(), (*n).to_owned())).collect()
}

#[test]
fn a_deploy_looks_for_the_named_kept_resources_of_the_stacks_it_creates_only() {
    assert!(
        probes(&[], &BTreeMap::new()).is_empty(),
        "nothing created, nothing looked for"
    );
    let bootstrap = spec(Template::Bootstrap, "us-east-2", &[]);
    assert_eq!(
        looked_for(&probes(&[&bootstrap], &BTreeMap::new())),
        pairs(&[
            ("us-east-2", "tandem-prod-dlq"),
            ("us-east-2", "tandem-prod-state"),
            ("us-east-2", "/aws/lambda/tandem-prod-topology"),
        ])
    );
    let region = writer();
    assert_eq!(
        looked_for(&probes(&[&region], &BTreeMap::new())),
        pairs(&[
            ("us-east-1", "/tandem/prod/vpc-flow-logs"),
            ("us-east-1", "tandem-prod/db"),
            ("us-east-2", "tandem-prod/db"),
            ("us-east-1", "/ecs/tandem-prod"),
            ("us-east-1", "/aws/lambda/tandem-prod-deploy-hook"),
            ("us-east-1", "/aws/lambda/tandem-prod-rollback"),
            ("us-east-1", "/aws/lambda/tandem-prod-failover"),
        ]),
        "the secret's replica in the peer too; no notify log group without a webhook"
    );
    let global = spec(Template::Global, "us-east-1", &[]);
    assert!(
        probes(&[&global], &BTreeMap::new()).is_empty(),
        "the global stack keeps nothing"
    );
}

#[test]
fn conditions_the_peer_and_repeats_decide_what_is_looked_for() {
    let down = BTreeMap::from([("us-east-2".to_owned(), "timed out".to_owned())]);
    let found = looked_for(&probes(&[&writer()], &down));
    assert!(found.contains(&("us-east-1".into(), "tandem-prod/db".into())));
    assert!(
        !found.iter().any(|(r, _)| r == "us-east-2"),
        "an unreachable peer is skipped: {found:?}"
    );
    let standby = spec(
        Template::Region,
        "us-east-2",
        &[
            ("Role", "standby"),
            ("DbOrigin", "replica"),
            ("PeerRegion", "us-east-1"),
        ],
    );
    let found = looked_for(&probes(&[&standby], &BTreeMap::new()));
    assert!(!found.iter().any(|(_, n)| n == "tandem-prod/db"), "{found:?}");
    let mut notifying = writer();
    notifying
        .parameters
        .extend(params(&[("OpsWebhookUrl", "https://x"), ("NotifyCodeKey", "n.zip")]));
    let found = looked_for(&probes(&[&notifying], &BTreeMap::new()));
    assert!(found.contains(&("us-east-1".into(), "/aws/lambda/tandem-prod-notify".into())));
    let mut local = writer();
    local.parameters.insert("Env".into(), "local".into());
    local.parameters.insert("DbOrigin".into(), "replica".into());
    let found = looked_for(&probes(&[&local], &BTreeMap::new()));
    assert!(
        found.contains(&("us-east-1".into(), "tandem-local/db".into())),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(r, _)| r == "us-east-2"),
        "no replica on the local AWS"
    );
    let twice = probes(&[&writer(), &writer()], &BTreeMap::new());
    assert_eq!(
        twice.len(),
        probes(&[&writer()], &BTreeMap::new()).len(),
        "each name once"
    );
}

/// A resource of each kind, as found.
fn present(kind: Kind) -> Found {
    match kind {
        Kind::Table => Found::Table {
            items: Some(12),
            protected: false,
        },
        Kind::Queue => Found::Queue {
            url: "https://sqs.example/1/tandem-prod-dlq".into(),
        },
        Kind::Secret => Found::Secret {
            pending_deletion: false,
            replica_of: None,
            replicas: vec![],
        },
        Kind::LogGroup | Kind::Bucket | Kind::Key | Kind::Replication => Found::LogGroup,
    }
}

#[test]
fn every_combination_of_found_and_absent_lists_exactly_the_found_with_a_delete_command() {
    let bootstrap = spec(Template::Bootstrap, "us-east-1", &[]);
    let region = writer();
    let all = probes(&[&bootstrap, &region], &BTreeMap::new());
    assert_eq!(all.len(), 10);
    for mask in 0u32..(1 << all.len()) {
        let found: Vec<(Probe, Found)> = (all.iter().enumerate())
            .map(|(i, p)| {
                let f = if mask & (1 << i) == 0 {
                    Found::Absent
                } else {
                    present(p.entry.kind)
                };
                (p.clone(), f)
            })
            .collect();
        let Some(message) = blocked("prod", &found) else {
            assert_eq!(mask, 0, "something found must stop the deploy");
            continue;
        };
        let lines: Vec<&str> = message.lines().skip(1).collect();
        assert_eq!(lines.len(), mask.count_ones() as usize, "{message}");
        assert!(message.starts_with("tandem deploy --env prod stopped before changing anything: "));
        assert!(message.contains(&format!("{} resource(s)", mask.count_ones())));
        let mut shown = lines.iter();
        for (probe, f) in found.iter().filter(|(_, f)| *f != Found::Absent) {
            let line = shown.next().unwrap();
            assert!(
                line.contains(&format!(" {} in {} (", probe.name, probe.region)),
                "{line}"
            );
            let delete = match f {
                Found::Table { .. } => "aws dynamodb delete-table",
                Found::Queue { .. } => "aws sqs delete-queue",
                Found::LogGroup => "aws logs delete-log-group",
                Found::Secret { .. } => "--force-delete-without-recovery",
                Found::Absent => unreachable!(),
            };
            assert!(line.contains(delete), "{line}");
            assert!(line.contains(&format!("--region {}", probe.region)), "{line}");
        }
    }
}

/// The message for `logical_id` found as `found` in `region`.
fn one(logical_id: &str, region: &str, found: Found) -> String {
    let entry = RETAINED.iter().find(|r| r.logical_id == logical_id).unwrap();
    let probe = Probe {
        entry,
        name: entry.name_in("prod").unwrap(),
        region: region.into(),
        stack: "tandem-prod-x".into(),
    };
    blocked("prod", &[(probe, found)]).unwrap()
}

#[test]
fn each_kind_says_what_it_holds_and_how_to_keep_it_first() {
    let table = one(
        "StateTable",
        "us-east-1",
        Found::Table {
            items: Some(40),
            protected: true,
        },
    );
    for part in [
        "DynamoDB table tandem-prod-state in us-east-1 (the audit history",
        "about 40 item(s)",
        "`aws dynamodb create-backup --region us-east-1 --table-name tandem-prod-state --backup-name tandem-prod-state-before-redeploy`",
        "`aws dynamodb update-table --region us-east-1 --table-name tandem-prod-state --no-deletion-protection-enabled`",
        "`aws dynamodb delete-table --region us-east-1 --table-name tandem-prod-state`",
    ] {
        assert!(table.contains(part), "{part}\n{table}");
    }
    let unprotected = one(
        "StateTable",
        "us-east-1",
        Found::Table {
            items: None,
            protected: false,
        },
    );
    assert!(
        !unprotected.contains("update-table") && !unprotected.contains("item(s)"),
        "{unprotected}"
    );
    let queue = one(
        "DeadLetterQueue",
        "us-east-2",
        Found::Queue {
            url: "https://q/tandem-prod-dlq".into(),
        },
    );
    assert!(queue.contains("`aws sqs receive-message --region us-east-2 --queue-url https://q/tandem-prod-dlq"));
    assert!(queue.contains("`aws sqs delete-queue --region us-east-2 --queue-url https://q/tandem-prod-dlq`"));
    assert!(queue.contains("60 seconds"), "{queue}");
    let logs = one("AppLogGroup", "us-east-1", Found::LogGroup);
    assert!(logs.contains("`aws logs delete-log-group --region us-east-1 --log-group-name /ecs/tandem-prod`"));
    assert!(logs.contains("aws logs create-export-task"), "{logs}");
}

#[test]
fn a_secret_is_freed_from_its_primary_side_and_when_pending_deletion() {
    let secret = |pending, replica_of: Option<&str>, replicas: &[&str], region| {
        let found = Found::Secret {
            pending_deletion: pending,
            replica_of: replica_of.map(str::to_owned),
            replicas: replicas.iter().map(|r| (*r).to_owned()).collect(),
        };
        one("DbSecret", region, found)
    };
    let primary = secret(false, None, &["us-east-2"], "us-east-1");
    assert!(primary.contains("`aws secretsmanager get-secret-value --region us-east-1 --secret-id tandem-prod/db`"));
    assert!(primary.contains(
        "`aws secretsmanager remove-regions-from-replication --region us-east-1 --secret-id tandem-prod/db --remove-replica-regions us-east-2`"
    ));
    assert!(primary.contains(
        "`aws secretsmanager delete-secret --region us-east-1 --secret-id tandem-prod/db --force-delete-without-recovery`"
    ));
    let alone = secret(false, None, &[], "us-east-1");
    assert!(!alone.contains("remove-regions-from-replication"), "{alone}");
    let replica = secret(false, Some("us-east-1"), &[], "us-east-2");
    assert!(replica.contains("a replica of the secret in us-east-1"), "{replica}");
    assert!(replica.contains("--region us-east-1 --secret-id tandem-prod/db --remove-replica-regions us-east-2"));
    assert!(replica.contains("delete-secret --region us-east-2"), "{replica}");
    let pending = secret(true, None, &[], "us-east-1");
    assert!(pending.contains("scheduled for deletion"), "{pending}");
    assert!(pending.contains("`aws secretsmanager restore-secret --region us-east-1 --secret-id tandem-prod/db`"));
    assert!(pending.contains("--force-delete-without-recovery"), "{pending}");
}

#[test]
fn a_destroy_lists_what_each_stack_kept_and_the_deploys_guidance_when_a_name_is_kept() {
    let resources: BTreeMap<String, String> = [
        "Key",
        "DeadLetterQueue",
        "StateTable",
        "TopologyLogGroup",
        "ArtifactBucket",
    ]
    .iter()
    .map(|id| ((*id).to_owned(), format!("physical-{id}")))
    .collect();
    let names = |env: &str| -> Vec<(String, String)> {
        kept_by(env, Template::Bootstrap, "us-east-1", &BTreeMap::new(), &resources)
            .into_iter()
            .map(|(r, _, n)| (r, n))
            .collect()
    };
    assert_eq!(
        names("prod"),
        pairs(&[
            ("us-east-1", "physical-Key"),
            ("us-east-1", "tandem-prod-dlq"),
            ("us-east-1", "tandem-prod-state"),
            ("us-east-1", "/aws/lambda/tandem-prod-topology"),
        ])
    );
    assert_eq!(names("dev"), pairs(&[("us-east-1", "physical-Key")]));
    assert!(names("local").is_empty());
    let region = params(&[("Env", "prod"), ("DbOrigin", "writer"), ("PeerRegion", "us-east-2")]);
    let has = BTreeMap::from([("DbSecret".to_owned(), "arn:secret".to_owned())]);
    let kept = kept_by("prod", Template::Region, "us-east-1", &region, &has);
    assert_eq!(
        kept.iter().map(|(r, _, n)| (r.clone(), n.clone())).collect::<Vec<_>>(),
        pairs(&[("us-east-2", "tandem-prod/db"), ("us-east-1", "tandem-prod/db")]),
        "the replica too"
    );
    let lines = kept_after_destroy("prod", &kept);
    assert_eq!(
        lines[1],
        format!("  us-east-2  secret tandem-prod/db: {}", kept[0].1.holds)
    );
    assert!(
        lines
            .last()
            .unwrap()
            .contains("the next `tandem deploy --env prod` stops"),
        "{lines:?}"
    );
    let key_only = kept_by("dev", Template::Bootstrap, "us-east-1", &BTreeMap::new(), &resources);
    let lines = kept_after_destroy("dev", &key_only);
    assert_eq!(
        lines.len(),
        2,
        "no deploy guidance when only unnamed ones are kept: {lines:?}"
    );
    assert!(kept_after_destroy("dev", &[]).is_empty());
}

#[test]
fn the_key_and_the_names_are_kept_for_the_right_reasons() {
    // The value every `holds` is read with: one phrase, no trailing stop.
    for entry in RETAINED {
        assert!(!entry.holds.ends_with('.'), "{}", entry.logical_id);
        assert_eq!(
            entry.name.is_some(),
            matches!(entry.kind, Kind::Table | Kind::Queue | Kind::LogGroup | Kind::Secret),
            "{}: only the probed kinds have a name",
            entry.logical_id
        );
    }
}
