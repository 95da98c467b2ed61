//! `tandem release`: ship one image to both regions, the primary first and
//! the standby only after it, each a stack update that changes only
//! `ImageTag`. The region stack's `Custom::BlueGreenDeployment` does the
//! CodeDeploy side; this shell starts the update, shows its events, release
//! record and hook decisions as they come, and judges the outcome with the
//! pure functions in [`decide`].

/// `--approve` and `--reject`: answering a release that waits for a person.
pub(crate) mod approve;
/// The pure part: what to do and what to say, with no AWS call.
pub(crate) mod decide;

use crate::context::Context;
use crate::plan::{IMAGE_TAG, Template, release_parameters};
use crate::stacks::{Body, Proposal, StackError, Stacks, Watch};
use aws_sdk_cloudformation::types::ChangeSetType;
use aws_sdk_ecr::types::ImageIdentifier;
use decide::{Progress, ReleaseError, check_stack, check_tag, judge, release_order};
use tandem_core::aws::error_text;
use tandem_core::state::{ReleaseRecord, StateTable};

/// One region's side of a release: where, its names, and its clients.
pub(crate) struct Target<'a> {
    /// The region.
    pub(crate) region: &'a str,
    /// `primary` or `standby`.
    pub(crate) role: &'a str,
    /// The environment.
    pub(crate) env: &'a str,
    /// The region stack's name.
    pub(crate) stack: &'a str,
    /// The ECR repository the image must be in.
    pub(crate) repository: &'a str,
    /// The region's stacks.
    pub(crate) stacks: Stacks<'a>,
    /// The region's ECR.
    pub(crate) ecr: &'a aws_sdk_ecr::Client,
    /// The region's state table.
    pub(crate) state: StateTable,
}

/// The schema name of [`ReleaseReport`].
pub(crate) const RELEASE_SCHEMA: &str = "tandem.release/1";

/// `tandem release --output json`: what happened in each region reached.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ReleaseReport {
    /// [`RELEASE_SCHEMA`].
    pub(crate) schema: &'static str,
    /// The environment.
    pub(crate) env: String,
    /// The image tag.
    pub(crate) tag: String,
    /// Whether both regions run it now.
    pub(crate) released: bool,
    /// Each region reached, in order: the primary first.
    pub(crate) regions: Vec<RegionOutcome>,
    /// Why the release stopped, when it did.
    pub(crate) error: Option<String>,
}

/// How the release went in one region.
#[derive(Debug, serde::Serialize)]
pub(crate) struct RegionOutcome {
    /// The region.
    pub(crate) region: String,
    /// `primary` or `standby`.
    pub(crate) role: String,
    /// The outcome's line ("released", "already runs", or the failure).
    pub(crate) outcome: String,
    /// Whether it runs the tag now.
    pub(crate) ok: bool,
}

/// `tandem release`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// dev, prod or local.
    #[arg(long)]
    pub(crate) env: String,
    /// The image tag, already pushed to the primary region's ECR repository tandem-<env>-app.
    #[arg(long)]
    pub(crate) image: Option<String>,
    /// Let the release that waits for approval move production traffic (release_engine = "ecs" with
    /// [ecs_release] approval = true).
    #[arg(long)]
    pub(crate) approve: bool,
    /// Roll back the release that waits for approval (needs --reason).
    #[arg(long)]
    pub(crate) reject: bool,
    /// Why, for the audit trail, with --approve or --reject.
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// text for a person; json for scripts (tandem.release/1, or tandem.approval/1 with --approve or --reject;
    /// see docs/operating.md).
    #[arg(long, value_enum, default_value_t)]
    pub(crate) output: crate::ui::Output,
}

impl Args {
    /// What the flags ask for ([`approve::decide::mode`]).
    fn mode(&self) -> Result<approve::decide::Mode, String> {
        approve::decide::mode(self.image.as_deref(), self.approve, self.reject, self.reason.as_deref())
    }
}

impl super::CommandArgs for Args {
    fn validate(&self) -> Result<(), super::Invalid> {
        match self.mode().map_err(super::Invalid)? {
            approve::decide::Mode::Release(tag) => check_tag(&tag).map_err(|e| super::Invalid(e.to_string())),
            approve::decide::Mode::Answer(..) => Ok(()),
        }
    }

    async fn start(self, root: &std::path::Path) -> anyhow::Result<bool> {
        let mode = self.mode().map_err(super::Invalid)?;
        crate::ui::set_output(self.output);
        let ctx = crate::context::Context::load(root, &self.env).await?;
        match mode {
            approve::decide::Mode::Release(tag) => run(&ctx, &tag).await?,
            approve::decide::Mode::Answer(answer, reason) => approve::run(&ctx, answer, &reason).await?,
        }
        Ok(true)
    }
}

/// Releases `tag` to the primary region, then the standby; stops at the
/// first region that fails. With `--output json`, prints a
/// [`ReleaseReport`] either way.
pub(crate) async fn run(ctx: &Context, tag: &str) -> Result<(), ReleaseError> {
    let mut report = ReleaseReport {
        schema: RELEASE_SCHEMA,
        env: ctx.config.env.clone(),
        tag: tag.to_owned(),
        released: false,
        regions: Vec::new(),
        error: None,
    };
    let result = release_both(ctx, tag, &mut report).await;
    report.released = result.is_ok();
    report.error = result.as_ref().err().map(ToString::to_string);
    if crate::ui::json() {
        // A report that cannot be printed still leaves the release's own result.
        crate::ui::emit_json(&report).ok();
    }
    result
}

async fn release_both(ctx: &Context, tag: &str, report: &mut ReleaseReport) -> Result<(), ReleaseError> {
    check_tag(tag)?;
    let order = release_order(&ctx.roles);
    let stack = ctx.config.stack_name(Template::Region.part());
    let repository = ctx.config.repository_name();
    crate::say!(
        "releasing {tag}: {} (primary), then {} (standby)",
        order[0].0,
        order[1].0
    );
    for (step, (region, role)) in order.iter().enumerate() {
        crate::say!("\n[{}/{}] {stack} in {region} ({role})", step + 1, order.len());
        let clients = ctx.aws.region(region);
        let target = Target {
            region,
            role,
            env: &ctx.config.env,
            stack: &stack,
            repository: &repository,
            stacks: super::stacks_in(ctx, region),
            ecr: &clients.ecr,
            state: ctx.state(region),
        };
        let next = order.get(step + 1).map(|(r, _)| *r);
        let outcome = release_region(&target, tag, next).await;
        report.regions.push(RegionOutcome {
            region: (*region).to_owned(),
            role: (*role).to_owned(),
            outcome: match &outcome {
                Ok(line) => line.clone(),
                Err(e) => e.to_string(),
            },
            ok: outcome.is_ok(),
        });
        crate::say!("{}", outcome?);
    }
    crate::say!("\nreleased {tag} to {} and {}", order[0].0, order[1].0);
    Ok(())
}

/// Releases `tag` in one region: checks the stack and the image, updates
/// only `ImageTag`, watches, and judges. Ok: the outcome's line (including
/// "already runs" when there was nothing to change). `next` is the region
/// that follows, which a failure says was not touched.
pub(crate) async fn release_region(t: &Target<'_>, tag: &str, next: Option<&str>) -> Result<String, ReleaseError> {
    let stopped = |e: StackError| ReleaseError::Stack {
        tag: tag.to_owned(),
        region: t.region.to_owned(),
        reason: e.to_string(),
    };
    let current = t.stacks.describe(t.stack).await.map_err(stopped)?;
    let names = check_stack(
        t.stack,
        t.region,
        t.env,
        current.as_ref().map(|c| (c.status.as_str(), &c.parameters)),
    )?;
    let running = current
        .as_ref()
        .and_then(|c| c.parameters.get(IMAGE_TAG))
        .filter(|v| !v.is_empty())
        .map_or("no release yet", String::as_str);
    crate::say!("  {:<10} now: {running}", t.region);
    check_image(t, tag).await?;
    let before = last_release(t).await;
    let proposal = Proposal {
        stack: t.stack,
        kind: ChangeSetType::Update,
        body: Body::Previous,
        parameters: release_parameters(&names, tag),
        env: t.env,
        part: Template::Region.part(),
    };
    let Some(change_set) = t.stacks.propose(&proposal).await.map_err(stopped)? else {
        return Ok(format!("{} ({}): already runs {tag}; nothing to do", t.region, t.role));
    };
    let mut watcher = Watcher {
        target: t,
        progress: Progress::new(t.env, t.region, tag, before),
        deployment: None,
        warned: false,
    };
    let ended = (t.stacks)
        .execute_watching(t.stack, &change_set, &mut watcher)
        .await
        .map_err(stopped)?;
    let after = last_release(t).await;
    watcher.show(after.as_ref()).await;
    judge(&watcher.progress, t.role, next, &ended, after.as_ref())
}

/// Fails unless image `tag` is in the target's repository.
async fn check_image(t: &Target<'_>, tag: &str) -> Result<(), ReleaseError> {
    let found = (t.ecr.describe_images())
        .repository_name(t.repository)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await;
    let missing = || ReleaseError::MissingImage {
        repository: t.repository.to_owned(),
        region: t.region.to_owned(),
        tag: tag.to_owned(),
    };
    let lookup = |reason: String, fix: String| ReleaseError::ImageLookup {
        repository: t.repository.to_owned(),
        region: t.region.to_owned(),
        tag: tag.to_owned(),
        reason,
        fix,
    };
    match found {
        Ok(out) if out.image_details().is_empty() => Err(missing()),
        Ok(_) => Ok(()),
        Err(e) => match e.as_service_error() {
            Some(s) if s.is_image_not_found_exception() => Err(missing()),
            Some(s) if s.is_repository_not_found_exception() => Err(lookup(
                error_text(&e),
                format!("the region stack makes it; run make deploy ENV={} first", t.env),
            )),
            _ => Err(lookup(
                error_text(&e),
                "check the credentials and that they may call ecr:DescribeImages, then retry".to_owned(),
            )),
        },
    }
}

/// The region's newest release record; `None`, with a note, when the table
/// cannot be read (the stack's outcome still decides).
async fn last_release(t: &Target<'_>) -> Option<ReleaseRecord> {
    match t.state.last_release(t.region).await {
        Ok(record) => record,
        Err(e) => {
            crate::say!("  {:<10} cannot read the release record: {e}", t.region);
            None
        }
    }
}

/// Prints a release's record and hook decisions as they change, while the
/// stack update runs.
struct Watcher<'t, 'a> {
    target: &'t Target<'a>,
    progress: Progress,
    /// The deployment, once the record names it.
    deployment: Option<String>,
    /// Whether a failed read was reported (once is enough).
    warned: bool,
}

impl Watcher<'_, '_> {
    /// Prints what changed in `record` and the deployment's hook decisions.
    async fn show(&mut self, record: Option<&ReleaseRecord>) {
        if let Some(line) = self.progress.record_line(record) {
            crate::say!("{line}");
        }
        if let Some(r) = record.filter(|r| self.progress.is_this_release(r)) {
            self.deployment.clone_from(&r.deployment_id);
        }
        let Some(deployment) = &self.deployment else {
            return;
        };
        match self.target.state.hook_audits(deployment).await {
            Ok(audits) => {
                for line in self.progress.hook_lines(&audits) {
                    crate::say!("{line}");
                }
            }
            Err(e) => self.warn(&e.to_string()),
        }
    }

    /// Reports a failed read, the first time only.
    fn warn(&mut self, error: &str) {
        if !self.warned {
            self.warned = true;
            crate::say!(
                "  {:<10} cannot read the release progress ({error}); the stack's outcome still decides",
                self.target.region
            );
        }
    }
}

impl Watch for Watcher<'_, '_> {
    async fn poll(&mut self) {
        match self.target.state.last_release(self.target.region).await {
            Ok(record) => self.show(record.as_ref()).await,
            Err(e) => self.warn(&e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
