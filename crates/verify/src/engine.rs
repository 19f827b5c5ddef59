//! The run: offline key checks, the validity check, then every row's probes concurrently.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Method;
use rakguard_catalog::key::{ApiKey, KeyError, KeyKind};
use rakguard_catalog::manifest::{Manifest, ManifestError};
use rakguard_catalog::permission::{Level, Permission};
use rakguard_catalog::probe::{Effect, Probe};
use rakguard_catalog::stripe_error;
use tokio::time::Instant;

use crate::options::{Options, default_rate};
use crate::plan::{self, RowPlan, Settled, Want};
use crate::reading::{self, Answer, Rejection, RetryReason};
use crate::transport::{Sent, Transport, TransportError, idempotency_key};
use crate::verdict::{
    Code, Evidence, Fix, KeyInfo, Orphan, Outcome, PermissionResult, RowResult, SCHEMA, Subject,
    Verdict, permission_id,
};

/// Why a verification could not run at all (bad input from the caller, not a verdict).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The manifest has no such tier, or its permissions do not resolve.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    /// The options are unusable.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// Why a probe's answer is unknown, for the overall code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Answer,
    RateLimited,
    Unreachable,
    ServerError,
    Deadline,
}

/// A probe's full result.
struct Probed {
    settled: Settled,
    cause: Cause,
    rejection: Option<(Rejection, Evidence)>,
    orphan: Option<Orphan>,
}

struct Run<'a> {
    catalog: &'a Catalog,
    transport: Transport,
    options: &'a Options,
    rejection: Mutex<Option<(Rejection, Evidence)>>,
    orphans: Mutex<Vec<Orphan>>,
    causes: Mutex<Vec<Cause>>,
    answered: AtomicUsize,
    planned: usize,
}

/// Verifies that `key` holds what `manifest` needs (the tier in `options.tier`, or the base).
/// With `options.stripe_account`, the manifest's Connect permissions are verified on that
/// account instead.
pub async fn verify(
    key: &ApiKey,
    manifest: &Manifest,
    options: &Options,
) -> Result<Verdict, VerifyError> {
    let catalog = Catalog::embedded();
    let tier = options.tier.as_deref();
    let requirements = if options.stripe_account.is_some() {
        manifest.connect_requirements_with(catalog, tier)?
    } else {
        manifest.requirements_with(catalog, tier)?
    };
    let required: Vec<Permission> = requirements
        .into_iter()
        .map(|requirement| requirement.permission)
        .collect();
    let subject = Subject {
        command: "verify".to_owned(),
        manifest: Some(manifest.id.clone()),
        tier: options.tier.clone(),
        api_base: options.api_base.clone(),
        stripe_account: options.stripe_account.clone(),
        excess_checked: options.check_excess,
    };
    let accept_secret = options
        .accept_secret_keys
        .unwrap_or(manifest.accept_secret_keys);
    run(
        catalog,
        key,
        options,
        subject,
        Some(required),
        accept_secret,
    )
    .await
}

/// Finds the level the key holds on every row of the form that has a probe.
pub async fn scan(key: &ApiKey, options: &Options) -> Result<Verdict, VerifyError> {
    let subject = Subject {
        command: "scan".to_owned(),
        manifest: None,
        tier: None,
        api_base: options.api_base.clone(),
        stripe_account: options.stripe_account.clone(),
        excess_checked: false,
    };
    let accept_secret = options.accept_secret_keys.unwrap_or(false);
    run(
        Catalog::embedded(),
        key,
        options,
        subject,
        None,
        accept_secret,
    )
    .await
}

/// The verdict for text that is not a usable key at all (the caller's parse failed).
pub fn malformed(error: &KeyError, command: &str, options: &Options) -> Verdict {
    let mut verdict = empty_verdict(
        KeyInfo {
            kind: None,
            mode: None,
            masked: String::new(),
        },
        Subject {
            command: command.to_owned(),
            manifest: None,
            tier: options.tier.clone(),
            api_base: options.api_base.clone(),
            stripe_account: options.stripe_account.clone(),
            excess_checked: false,
        },
        Code::KeyMalformed,
        format!("{error} [{}]", error.code()),
    );
    verdict.fix = Some(Fix {
        summary: error.fix().to_owned(),
        steps: Vec::new(),
        dashboard_url: None,
    });
    verdict
}

fn empty_verdict(key: KeyInfo, subject: Subject, code: Code, message: String) -> Verdict {
    Verdict {
        schema: SCHEMA,
        code,
        message,
        key,
        subject,
        permissions: Vec::new(),
        rows: Vec::new(),
        missing: Vec::new(),
        unknown: Vec::new(),
        excess: Vec::new(),
        orphans: Vec::new(),
        fix: None,
        decisive: None,
        requests: 0,
        elapsed_ms: 0,
    }
}

async fn run(
    catalog: &Catalog,
    key: &ApiKey,
    options: &Options,
    subject: Subject,
    required: Option<Vec<Permission>>,
    accept_secret: bool,
) -> Result<Verdict, VerifyError> {
    let started = Instant::now();
    let key_info = KeyInfo {
        kind: Some(key.kind()),
        mode: Some(key.mode()),
        masked: key.masked(),
    };
    let keys_url = format!(
        "https://dashboard.stripe.com/{}apikeys",
        if key.mode() == rakguard_catalog::key::Mode::Test {
            "test/"
        } else {
            ""
        }
    );
    // 1. Offline.
    if let Some(refusal) = refuse_offline(key, options, accept_secret, &keys_url) {
        let (code, message, fix) = refusal;
        let mut verdict = empty_verdict(key_info, subject, code, message);
        verdict.fix = Some(fix);
        verdict.elapsed_ms = elapsed_ms(started);
        return Ok(verdict);
    }
    let rate = options
        .rate_per_second
        .unwrap_or_else(|| default_rate(key.mode()));
    let transport = Transport::new(key, options, rate)?;
    let probes: &[Probe] = options.probes.as_deref().unwrap_or(catalog.probes());

    // 2. What to probe.
    let secret = key.kind() == KeyKind::Secret;
    let mut wants: BTreeMap<String, Want> = match &required {
        Some(required) => plan::wants_for(required),
        None => catalog
            .rows()
            .iter()
            .map(|row| (row.id.clone(), Want::Enumerate))
            .collect(),
    };
    if options.check_excess && required.is_some() && !secret {
        for row in catalog.rows() {
            wants.insert(row.id.clone(), Want::Enumerate);
        }
    }
    let mut plans = plan::build(catalog, probes, &wants);
    let planned = if secret {
        1
    } else {
        plan::worst_case_requests(&plans)
    };
    let run = Run {
        catalog,
        transport,
        options,
        rejection: Mutex::new(None),
        orphans: Mutex::new(Vec::new()),
        causes: Mutex::new(Vec::new()),
        answered: AtomicUsize::new(0),
        planned,
    };

    // 3. The validity check: the first probe of the first row that reads (or any row), whose
    // answer also counts as that row's evidence. A secret key gets a plain `GET /v1/balance`.
    // A key that verified before (a scheduled re-verification) skips it: it is almost always
    // still valid, so every probe goes out in the first round, and a key revoked since costs
    // one refused request per probe instead of one in all.
    if secret || !options.previously_valid {
        let first = plans
            .iter()
            .position(|plan| plan.next().is_some_and(|probe| probe.method == Method::Get))
            .or_else(|| plans.iter().position(|plan| plan.next().is_some()));
        let validity_probe = match (secret, first) {
            (false, Some(index)) => plans[index].next().cloned(),
            _ => catalog
                .probe(&Permission::new("balance", Level::Read))
                .cloned()
                .or_else(|| probes.first().cloned()),
        };
        let Some(validity_probe) = validity_probe else {
            let mut verdict = empty_verdict(
                key_info,
                subject,
                Code::Incomplete,
                "there is no probe to run".to_owned(),
            );
            verdict.elapsed_ms = elapsed_ms(started);
            return Ok(verdict);
        };
        let probed = run.probe(&validity_probe).await;
        if let Some((rejection, evidence)) = probed.rejection.clone() {
            return Ok(rejected_verdict(
                &run, key_info, subject, rejection, evidence, started, &keys_url,
            ));
        }
        match probed.cause {
            Cause::RateLimited | Cause::Unreachable | Cause::ServerError | Cause::Deadline => {
                let code = match probed.cause {
                    Cause::RateLimited => Code::RateLimited,
                    _ => Code::Unreachable,
                };
                let reason = probed
                    .settled
                    .reason
                    .clone()
                    .unwrap_or_else(|| "no answer".to_owned());
                let mut verdict = empty_verdict(
                    key_info,
                    subject,
                    code,
                    format!("Could not establish whether the key is valid: {reason}."),
                );
                verdict.decisive = probed.settled.evidence.last().cloned();
                verdict.requests = run.transport.requests();
                verdict.elapsed_ms = elapsed_ms(started);
                return Ok(verdict);
            }
            Cause::Answer => {}
        }
        if secret {
            return Ok(secret_verdict(
                &run, key_info, subject, required, probed, started,
            ));
        }
        if let Some(plan) = plans
            .iter_mut()
            .find(|plan| plan.next().is_some_and(|probe| probe == &validity_probe))
        {
            run.record(&probed);
            plan.settle(validity_probe.permission.level, probed.settled);
        }
    }

    // 4. Every row concurrently, each row's probes in order.
    join_all(plans.iter_mut().map(|plan| run.settle_row(plan))).await;

    Ok(finish(
        &run, key_info, subject, required, &plans, started, &keys_url,
    ))
}

fn refuse_offline(
    key: &ApiKey,
    options: &Options,
    accept_secret: bool,
    keys_url: &str,
) -> Option<(Code, String, Fix)> {
    if key.kind() == KeyKind::Publishable {
        return Some((
            Code::KeyPublishable,
            format!(
                "{} is a publishable key: it can only create tokens in a browser and cannot be verified or used by a server.",
                key.masked()
            ),
            Fix {
                summary: "Create a restricted key (it starts with rk_) and paste that instead."
                    .to_owned(),
                steps: vec![
                    "Open the API keys page of the Stripe Dashboard.".to_owned(),
                    "Click \"Create restricted key\" and set the permissions listed.".to_owned(),
                ],
                dashboard_url: Some(keys_url.to_owned()),
            },
        ));
    }
    if let Some(slot) = options.mode
        && slot != key.mode()
    {
        return Some((
            Code::KeyWrongMode,
            format!(
                "{} is a {} mode key, but this field takes a {} mode key.",
                key.masked(),
                key.mode(),
                slot
            ),
            Fix {
                summary: format!(
                    "Switch the Dashboard to {slot} mode (the \"Test mode\" toggle) and create the key there."
                ),
                steps: Vec::new(),
                dashboard_url: Some(format!(
                    "https://dashboard.stripe.com/{}apikeys",
                    if slot == rakguard_catalog::key::Mode::Test {
                        "test/"
                    } else {
                        ""
                    }
                )),
            },
        ));
    }
    if key.kind() == KeyKind::Secret && !accept_secret {
        return Some((
            Code::SecretKeyRefused,
            format!(
                "{} is a full-access secret key; only a restricted key (rk_…) with the listed permissions is accepted.",
                key.masked()
            ),
            Fix {
                summary: "Create a restricted key with only the permissions listed, and paste it instead of your secret key.".to_owned(),
                steps: vec![
                    "Open the API keys page of the Stripe Dashboard.".to_owned(),
                    "Click \"Create restricted key\", set the permissions listed, and create it.".to_owned(),
                ],
                dashboard_url: Some(keys_url.to_owned()),
            },
        ));
    }
    None
}

impl Run<'_> {
    fn record(&self, probed: &Probed) {
        if let Some(orphan) = probed.orphan.clone() {
            lock(&self.orphans).push(orphan);
        }
        if probed.settled.outcome == Outcome::Unknown {
            lock(&self.causes).push(probed.cause);
        }
        let answered = self.answered.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(progress) = &self.options.progress {
            (progress.0)(answered, self.planned.max(answered));
        }
    }

    async fn settle_row(&self, plan: &mut RowPlan) {
        while let Some(probe) = plan.next().cloned() {
            let probed = if let Some((_, _)) = &*lock(&self.rejection) {
                Probed {
                    settled: Settled {
                        outcome: Outcome::Unknown,
                        reason: Some(
                            "not probed: Stripe rejected the key during the run".to_owned(),
                        ),
                        evidence: Vec::new(),
                    },
                    cause: Cause::Answer,
                    rejection: None,
                    orphan: None,
                }
            } else {
                self.probe(&probe).await
            };
            if let Some(rejection) = probed.rejection.clone() {
                lock(&self.rejection).get_or_insert(rejection);
            }
            self.record(&probed);
            plan.settle(probe.permission.level, probed.settled);
        }
    }

    /// Sends a probe with retries and reads the final answer.
    async fn probe(&self, probe: &Probe) -> Probed {
        // Stripe stores a 500 under its idempotency key and replays it, so a retry after a 5xx
        // needs a fresh key; after a dropped connection or a 429 the same key is kept, so that
        // a request that did run is answered from its stored result rather than run twice.
        let mut idempotency = (probe.method == Method::Post).then(idempotency_key);
        let mut attempts = 0u32;
        let mut evidence = Evidence {
            method: probe.method.as_str().to_owned(),
            path: probe.path.clone(),
            status: None,
            request_id: None,
            error_code: None,
            scope_named: Vec::new(),
            attempts: 0,
            note: None,
        };
        loop {
            attempts += 1;
            evidence.attempts = attempts;
            let sent = self
                .transport
                .send_once(
                    probe.method,
                    &probe.path,
                    &probe.body,
                    idempotency.as_deref(),
                )
                .await;
            let (retry_reason, retry_after, failure) = match sent {
                None => {
                    evidence.attempts = attempts - 1;
                    return unknown(evidence, Cause::Deadline, "the run's deadline passed");
                }
                Some(Sent::Failed(message)) => (RetryReason::Failure, None, Some(message)),
                Some(Sent::Answer(exchange)) => {
                    evidence.status = Some(exchange.status);
                    evidence.request_id = exchange.request_id.clone();
                    let error = (exchange.status >= 400)
                        .then(|| stripe_error::classify(exchange.status, &exchange.body));
                    evidence.error_code = error.as_ref().and_then(|error| error.code.clone());
                    let answer = reading::read(
                        self.catalog,
                        probe,
                        exchange.status,
                        &exchange.body,
                        exchange.should_retry,
                    );
                    match answer {
                        Answer::Retry { reason } => (reason, exchange.retry_after, None),
                        Answer::Granted => {
                            let orphan = if probe.effect == Effect::Creates {
                                self.clean_up(probe, &exchange.body).await
                            } else {
                                None
                            };
                            return Probed {
                                settled: Settled {
                                    outcome: Outcome::Granted,
                                    reason: None,
                                    evidence: vec![evidence],
                                },
                                cause: Cause::Answer,
                                rejection: None,
                                orphan,
                            };
                        }
                        Answer::Missing { named, note } => {
                            evidence.scope_named = named;
                            evidence.note = note;
                            return Probed {
                                settled: Settled {
                                    outcome: Outcome::Missing,
                                    reason: None,
                                    evidence: vec![evidence],
                                },
                                cause: Cause::Answer,
                                rejection: None,
                                orphan: None,
                            };
                        }
                        Answer::Unknown { reason, named } => {
                            evidence.scope_named = named;
                            return unknown(evidence, Cause::Answer, &reason);
                        }
                        Answer::KeyRejected(rejection) => {
                            let mut probed = unknown(
                                evidence.clone(),
                                Cause::Answer,
                                "Stripe rejected the key itself",
                            );
                            probed.rejection = Some((rejection, evidence));
                            return probed;
                        }
                    }
                }
            };
            let (cause, what) = match (retry_reason, &failure) {
                (RetryReason::RateLimited, _) => {
                    (Cause::RateLimited, "rate limited (429)".to_owned())
                }
                (RetryReason::Failure, Some(message)) => (Cause::Unreachable, message.clone()),
                (RetryReason::Failure, None) => (
                    Cause::ServerError,
                    format!(
                        "HTTP {} from the API",
                        evidence.status.map_or("?".to_owned(), |s| s.to_string())
                    ),
                ),
            };
            if failure.is_none() && retry_reason == RetryReason::Failure && idempotency.is_some() {
                idempotency = Some(idempotency_key());
            }
            if failure.is_some() {
                evidence.status = None;
                evidence.request_id = None;
                evidence.error_code = None;
            }
            if attempts > self.transport.retry.max_retries {
                return unknown(
                    evidence,
                    cause,
                    &format!("{what}, still after {attempts} attempts"),
                );
            }
            let Some(delay) = self.transport.backoff(attempts, retry_after) else {
                return unknown(
                    evidence,
                    cause,
                    &format!("{what}; no time left before the deadline to retry"),
                );
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// Deletes what a `creates` probe made: one delete, retried once; an orphan if both fail.
    async fn clean_up(&self, probe: &Probe, body: &str) -> Option<Orphan> {
        let id = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|value| value.get("id")?.as_str().map(str::to_owned));
        let orphan = |id: &str, reason: String| Orphan {
            id: id.to_owned(),
            cleanup: probe.cleanup.clone(),
            permission: permission_id(&probe.permission),
            reason,
        };
        let Some(id) = id.filter(|id| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }) else {
            return Some(orphan(
                "(unknown)",
                "the create answered without a usable object id, so nothing could be deleted"
                    .to_owned(),
            ));
        };
        let (method, template) = probe.cleanup.split_once(' ').unwrap_or(("DELETE", ""));
        let method: Method = method.parse().unwrap_or(Method::Delete);
        let path = match (template.find('{'), template.find('}')) {
            (Some(open), Some(close)) if open < close => {
                format!("{}{}{}", &template[..open], id, &template[close + 1..])
            }
            _ => format!("{}/{}", template.trim_end_matches('/'), id),
        };
        let mut last = String::new();
        for _ in 0..2 {
            match self.transport.send_once(method, &path, "", None).await {
                Some(Sent::Answer(exchange)) if matches!(exchange.status, 200 | 404) => {
                    return None;
                }
                Some(Sent::Answer(exchange)) => {
                    last = format!("HTTP {}", exchange.status);
                }
                Some(Sent::Failed(message)) => last = message,
                None => {
                    last = "the run's deadline passed".to_owned();
                    break;
                }
            }
        }
        Some(orphan(
            &id,
            format!("both delete attempts failed (last: {last})"),
        ))
    }
}

fn unknown(evidence: Evidence, cause: Cause, reason: &str) -> Probed {
    Probed {
        settled: Settled {
            outcome: Outcome::Unknown,
            reason: Some(reason.to_owned()),
            evidence: vec![evidence],
        },
        cause,
        rejection: None,
        orphan: None,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn rejected_verdict(
    run: &Run<'_>,
    key: KeyInfo,
    subject: Subject,
    rejection: Rejection,
    evidence: Evidence,
    started: Instant,
    keys_url: &str,
) -> Verdict {
    let masked = key.masked.clone();
    let (code, message, summary) = match rejection {
        Rejection::Invalid if run.options.previously_valid => (
            Code::KeyRevoked,
            format!(
                "Stripe no longer accepts {masked}, which verified before: the key was deleted or rolled."
            ),
            "Create a new restricted key with the permissions listed and connect it again.",
        ),
        Rejection::Invalid => (
            Code::KeyInvalid,
            format!(
                "Stripe does not recognise {masked}: it is mistyped, from another account, or has been deleted."
            ),
            "Copy the key again from the Dashboard (click \"Reveal\" on the key) or create a new restricted key.",
        ),
        Rejection::Expired => (
            Code::KeyExpired,
            format!(
                "Stripe says {masked} has expired (it was rolled and its grace period ended, or it was set to expire)."
            ),
            "Create a new restricted key (or use the key that replaced this one) and connect it again.",
        ),
        Rejection::IpRestricted => (
            Code::KeyIpRestricted,
            format!(
                "{masked} only accepts requests from certain IP addresses, and this service's address is not one of them."
            ),
            "Edit the key in the Dashboard and add this service's IP addresses to its allowed IPs, or remove the restriction.",
        ),
        Rejection::Publishable => (
            Code::KeyPublishable,
            format!("Stripe refused {masked} as a publishable key."),
            "Create a restricted key (rk_…) and paste that instead.",
        ),
        Rejection::AccountInvalid => (
            Code::AccountInvalid,
            format!(
                "{masked} cannot reach account {}: it does not exist, or it is not connected to the key's platform.",
                subject.stripe_account.as_deref().unwrap_or("(none)")
            ),
            "Check the connected account id, and that the account is still connected to your platform.",
        ),
        Rejection::NoConnectPermissions => (
            Code::PermissionsMissing,
            format!("{masked} has no Connect permissions, so it cannot act on connected accounts."),
            "Edit the key and set the permissions listed in the form's Connect column.",
        ),
    };
    let mut verdict = empty_verdict(key, subject, code, message);
    verdict.decisive = Some(evidence);
    verdict.fix = Some(Fix {
        summary: summary.to_owned(),
        steps: Vec::new(),
        dashboard_url: Some(keys_url.to_owned()),
    });
    verdict.requests = run.transport.requests();
    verdict.elapsed_ms = elapsed_ms(started);
    verdict
}

fn secret_verdict(
    run: &Run<'_>,
    key: KeyInfo,
    subject: Subject,
    required: Option<Vec<Permission>>,
    probed: Probed,
    started: Instant,
) -> Verdict {
    let catalog = run.catalog;
    let mut verdict = empty_verdict(
        key,
        subject,
        Code::Ok,
        "A secret key holds every permission; Stripe accepted it.".to_owned(),
    );
    verdict.decisive = probed.settled.evidence.last().cloned();
    let mut permissions: Vec<Permission> = required.unwrap_or_default();
    catalog.sort_as_form(&mut permissions);
    verdict.permissions = permissions
        .iter()
        .map(|permission| PermissionResult {
            permission: permission_id(permission),
            row: permission.row.clone(),
            level: permission.level,
            label: catalog.form_label(permission),
            required: true,
            outcome: Outcome::Granted,
            implied_by: Some("secret_key".to_owned()),
            reason: None,
            evidence: probed.settled.evidence.clone(),
        })
        .collect();
    verdict.requests = run.transport.requests();
    verdict.elapsed_ms = elapsed_ms(started);
    verdict
}

fn finish(
    run: &Run<'_>,
    key: KeyInfo,
    subject: Subject,
    required: Option<Vec<Permission>>,
    plans: &[RowPlan],
    started: Instant,
    keys_url: &str,
) -> Verdict {
    let catalog = run.catalog;
    let plan_of = |row: &str| plans.iter().find(|plan| plan.row == row);
    let mut verdict = empty_verdict(key, subject, Code::Ok, String::new());
    match &required {
        Some(required) => {
            let mut required = required.clone();
            catalog.sort_as_form(&mut required);
            required.dedup();
            let needed: BTreeSet<Permission> =
                catalog.effective(&required.iter().cloned().collect());
            for permission in &required {
                let result = match plan_of(&permission.row) {
                    Some(plan) => plan.result(catalog, permission.level, true),
                    None => unknown_result(catalog, permission, "the form has no such row"),
                };
                verdict.permissions.push(result);
            }
            // Excess: strongest granted level per probed row that the manifest does not need.
            for plan in plans {
                let granted = [Level::Write, Level::Read].into_iter().find(|level| {
                    plan.levels.offers(*level)
                        && plan.result(catalog, *level, false).outcome == Outcome::Granted
                });
                if let Some(level) = granted {
                    let permission = Permission::new(plan.row.clone(), level);
                    if !needed.contains(&permission) {
                        let mut result = plan.result(catalog, level, false);
                        result.required = false;
                        verdict.excess.push(result.label.clone());
                        verdict.permissions.push(result);
                    }
                }
            }
        }
        None => {
            for plan in plans {
                let row = catalog.row(&plan.row);
                for level in [Level::Read, Level::Write] {
                    if plan.levels.offers(level) {
                        verdict.permissions.push(plan.result(catalog, level, false));
                    }
                }
                verdict.rows.push(RowResult {
                    row: plan.row.clone(),
                    group: row.map(|row| row.group.clone()).unwrap_or_default(),
                    label: row.map(|row| row.display_name.clone()).unwrap_or_default(),
                    held: plan.held(),
                });
            }
        }
    }
    for result in &verdict.permissions {
        if !result.required {
            continue;
        }
        match result.outcome {
            Outcome::Missing => verdict.missing.push(result.label.clone()),
            Outcome::Unknown => verdict.unknown.push(result.label.clone()),
            Outcome::Granted => {}
        }
    }
    verdict.orphans = lock(&run.orphans).clone();
    verdict.requests = run.transport.requests();
    let causes = lock(&run.causes).clone();
    let rejection = lock(&run.rejection).clone();
    let masked = verdict.key.masked.clone();
    if let Some((rejection, evidence)) = rejection {
        let rejected = rejected_verdict(
            run,
            verdict.key.clone(),
            verdict.subject.clone(),
            rejection,
            evidence,
            started,
            keys_url,
        );
        // The key itself was refused: no permission result means anything.
        verdict.permissions.clear();
        verdict.rows.clear();
        verdict.missing.clear();
        verdict.unknown.clear();
        verdict.excess.clear();
        verdict.code = rejected.code;
        verdict.message = rejected.message;
        verdict.fix = rejected.fix;
        verdict.decisive = rejected.decisive;
    } else if required.is_some() {
        let missing: Vec<&PermissionResult> = verdict
            .permissions
            .iter()
            .filter(|result| result.required && result.outcome == Outcome::Missing)
            .collect();
        if !missing.is_empty() {
            verdict.code = Code::PermissionsMissing;
            verdict.message = format!(
                "{masked} lacks {} of the {} permissions needed: {}.",
                missing.len(),
                verdict.permissions.iter().filter(|r| r.required).count(),
                verdict.missing.join("; ")
            );
            let steps = missing
                .iter()
                .map(|result| {
                    let current = plan_of(&result.row).map(|plan| plan.held());
                    match current {
                        Some(held @ (crate::verdict::Held::Read | crate::verdict::Held::None)) => {
                            format!("{} (now {})", result.label, held.as_str())
                        }
                        _ => result.label.clone(),
                    }
                })
                .collect();
            verdict.fix = Some(Fix {
                summary: "Edit the restricted key in the Stripe Dashboard and set these permissions, then save.".to_owned(),
                steps,
                dashboard_url: Some(keys_url.to_owned()),
            });
        } else if !verdict.unknown.is_empty() {
            verdict.code = inconclusive_code(&causes);
            verdict.message = format!(
                "Nothing is missing so far, but {} permission(s) could not be determined: {}.",
                verdict.unknown.len(),
                verdict.unknown.join("; ")
            );
        } else {
            verdict.message = format!("{masked} holds every permission needed.");
        }
    } else {
        let probed_unknown = causes.len();
        if probed_unknown > 0 {
            verdict.code = inconclusive_code(&causes);
            verdict.message = format!(
                "{probed_unknown} probe answer(s) could not be read; the rows concerned show as unknown."
            );
        } else {
            let determined = verdict
                .rows
                .iter()
                .filter(|row| row.held != crate::verdict::Held::Unknown)
                .count();
            verdict.message = format!(
                "Determined the level held on {determined} of {} rows (the others have no probe).",
                verdict.rows.len()
            );
        }
    }
    verdict.elapsed_ms = elapsed_ms(started);
    verdict
}

fn inconclusive_code(causes: &[Cause]) -> Code {
    let transient: Vec<&Cause> = causes
        .iter()
        .filter(|cause| **cause != Cause::Answer)
        .collect();
    if transient.is_empty() || transient.len() < causes.len() {
        Code::Incomplete
    } else if transient.iter().all(|cause| **cause == Cause::RateLimited) {
        Code::RateLimited
    } else if transient.iter().all(|cause| {
        matches!(
            cause,
            Cause::Unreachable | Cause::ServerError | Cause::Deadline
        )
    }) {
        Code::Unreachable
    } else {
        Code::Incomplete
    }
}

fn unknown_result(catalog: &Catalog, permission: &Permission, reason: &str) -> PermissionResult {
    PermissionResult {
        permission: permission_id(permission),
        row: permission.row.clone(),
        level: permission.level,
        label: catalog.form_label(permission),
        required: true,
        outcome: Outcome::Unknown,
        implied_by: None,
        reason: Some(reason.to_owned()),
        evidence: Vec::new(),
    }
}
