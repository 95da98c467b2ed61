//! The words for what a deleted stack kept: the deploy's refusal, with the
//! exact commands per resource, and the destroy's closing list. Pure.

use super::{Found, Probe, Retained};

/// Where the docs explain all this.
const README: &str = "docs/operating.md, \"Destroy, then deploy again\"";

/// The message that stops a deploy, or `None` when nothing found blocks
/// it: one paragraph, then per resource found what it holds and the
/// commands that keep its contents and free its name, in `found`'s order.
pub(crate) fn blocked(env: &str, found: &[(Probe, Found)]) -> Option<String> {
    let lines: Vec<String> = found
        .iter()
        .filter(|(_, f)| *f != Found::Absent)
        .map(|(probe, f)| format!("  - {}", advice(probe, f)))
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "tandem deploy --env {env} stopped before changing anything: {} resource(s) kept by an earlier \
         stack hold names that the stacks about to be created need, and CloudFormation would fail \
         half-way creating them. For each, keep what it holds if you want it, then delete it, then run \
         the deploy again ({README}):\n{}",
        lines.len(),
        lines.join("\n")
    ))
}

/// What one found resource holds and the commands that free its name.
fn advice(probe: &Probe, found: &Found) -> String {
    let (name, region) = (probe.name.as_str(), probe.region.as_str());
    let head = format!(
        "{} {name} in {region} ({}; {} would make it again)",
        probe.entry.kind.noun(),
        probe.entry.holds,
        probe.stack
    );
    match found {
        Found::Absent => head,
        Found::Table { items, protected } => {
            let items = items.map_or_else(String::new, |n| format!(" It holds about {n} item(s)."));
            let unprotect = if *protected {
                format!(
                    " turn its deletion protection off with `aws dynamodb update-table --region {region} \
                     --table-name {name} --no-deletion-protection-enabled`,"
                )
            } else {
                String::new()
            };
            format!(
                "{head}.{items} Back it up with `aws dynamodb create-backup --region {region} --table-name {name} \
                 --backup-name {name}-before-redeploy` (the backup outlives the table and needs the kept KMS key),\
                 {unprotect} then delete it with `aws dynamodb delete-table --region {region} --table-name {name}`."
            )
        }
        Found::Queue { url } => format!(
            "{head}. Read what it holds with `aws sqs receive-message --region {region} --queue-url {url} \
             --max-number-of-messages 10` (again until it returns nothing), then delete it with \
             `aws sqs delete-queue --region {region} --queue-url {url}` and wait a minute: SQS refuses \
             the name for 60 seconds after."
        ),
        Found::LogGroup => format!(
            "{head}. Export it if wanted (`aws logs create-export-task --region {region} --log-group-name {name} \
             --from 0 --to <now, in ms> --destination <a bucket of yours>`), then delete it with \
             `aws logs delete-log-group --region {region} --log-group-name {name}`."
        ),
        Found::Secret {
            pending_deletion,
            replica_of,
            replicas,
        } => secret_advice(&head, name, region, *pending_deletion, replica_of.as_deref(), replicas),
    }
}

/// A secret's commands: a replica goes from its primary's side; a primary
/// loses its replicas first; one scheduled for deletion keeps the name
/// until it is restored or deleted at once.
fn secret_advice(
    head: &str,
    name: &str,
    region: &str,
    pending_deletion: bool,
    replica_of: Option<&str>,
    replicas: &[String],
) -> String {
    let force = format!(
        "`aws secretsmanager delete-secret --region {region} --secret-id {name} --force-delete-without-recovery`"
    );
    if let Some(primary) = replica_of.filter(|p| *p != region) {
        return format!(
            "{head}. It is a replica of the secret in {primary}: detach it with `aws secretsmanager \
             remove-regions-from-replication --region {primary} --secret-id {name} --remove-replica-regions {region}`, \
             which leaves it standalone here, then delete it with {force}."
        );
    }
    if pending_deletion {
        return format!(
            "{head}. It is scheduled for deletion, which keeps the name until then: delete it now with {force}, \
             or first `aws secretsmanager restore-secret --region {region} --secret-id {name}` and \
             `aws secretsmanager get-secret-value --region {region} --secret-id {name}` to keep its value."
        );
    }
    let detach = if replicas.is_empty() {
        String::new()
    } else {
        format!(
            " remove its replicas with `aws secretsmanager remove-regions-from-replication --region {region} \
             --secret-id {name} --remove-replica-regions {}` (each is then a standalone secret of the same \
             name in its region, which blocks the new replica: delete it there the same way),",
            replicas.join(" ")
        )
    };
    format!(
        "{head}. Save its value with `aws secretsmanager get-secret-value --region {region} --secret-id {name}`,\
         {detach} then delete it with {force} (without that flag the name stays taken for the recovery window)."
    )
}

/// The lines `tandem destroy` ends with: each resource kept, as (region,
/// entry, its name), then where the next deploy's guidance is when any of
/// them has a name a new stack would need. Empty when nothing was kept.
pub(crate) fn kept_after_destroy(env: &str, kept: &[(String, &'static Retained, String)]) -> Vec<String> {
    if kept.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("kept on purpose (their DeletionPolicy in {env}):")];
    for (region, entry, name) in kept {
        lines.push(format!("  {region}  {} {name}: {}", entry.kind.noun(), entry.holds));
    }
    if kept.iter().any(|(_, entry, _)| entry.name.is_some()) {
        lines.push(format!(
            "the next `tandem deploy --env {env}` stops before it changes anything while any of the named ones \
             is still there, and says for each how to keep what it holds and delete it ({README})"
        ));
    }
    lines
}
