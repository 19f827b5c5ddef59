//! Comparing results: two verdicts permission by permission ([`diff_verdicts`]), or a verdict
//! against what a manifest needs ([`diff_manifest`]). Pure.

use std::collections::{BTreeMap, BTreeSet};

use rakguard_catalog::Catalog;
use rakguard_catalog::key::KeyKind;
use rakguard_catalog::manifest::{Manifest, ManifestError};
use rakguard_catalog::permission::{Level, Permission};
use serde::{Deserialize, Serialize};

use crate::verdict::{Code, Outcome, PermissionResult, Verdict, permission_id};

/// What a verdict was about, for the header of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The verdict's code.
    pub code: Code,
    /// The key, masked.
    pub key: String,
    /// `verify` or `scan`.
    pub command: String,
    /// The manifest verified, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The tier verified, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

impl Side {
    fn of(verdict: &Verdict) -> Side {
        Side {
            code: verdict.code,
            key: verdict.key.masked.clone(),
            command: verdict.subject.command.clone(),
            manifest: verdict.subject.manifest.clone(),
            tier: verdict.subject.tier.clone(),
        }
    }
}

/// One permission whose result differs between two verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The permission id, `row_level`.
    pub permission: String,
    /// As the form shows it.
    pub label: String,
    /// The result in the first verdict; `None` when it was not looked at.
    pub before: Option<Outcome>,
    /// The result in the second verdict; `None` when it was not looked at.
    pub after: Option<Outcome>,
    /// Whether the second verdict (or else the first) required it.
    pub required: bool,
}

/// How two verdicts differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictDiff {
    /// The first verdict (the baseline).
    pub before: Side,
    /// The second verdict.
    pub after: Side,
    /// Whether the two are about the same key (same masked form).
    pub same_key: bool,
    /// Now granted, and not granted before (missing, unknown or not looked at).
    pub gained: Vec<Change>,
    /// Granted before, now proven missing.
    pub lost: Vec<Change>,
    /// Any other change of a permission looked at in both (e.g. granted → unknown).
    pub changed: Vec<Change>,
    /// Whether the overall code got worse: to missing permissions or a rejected key from a
    /// better code.
    pub code_regressed: bool,
}

impl VerdictDiff {
    /// Whether the second verdict is worse: a permission was lost, or the code regressed.
    pub fn has_regressions(&self) -> bool {
        !self.lost.is_empty() || self.code_regressed
    }

    /// Whether anything differs.
    pub fn has_changes(&self) -> bool {
        self.before.code != self.after.code
            || !self.gained.is_empty()
            || !self.lost.is_empty()
            || !self.changed.is_empty()
    }
}

/// How bad a code is, for "got worse": ok and inconclusive runs rank below proven problems.
fn severity(code: Code) -> u8 {
    if code == Code::Ok {
        0
    } else if code.is_inconclusive() {
        1
    } else if code.is_key_rejected() {
        3
    } else {
        2
    }
}

/// Compares two verdicts permission by permission (`before` is the baseline).
pub fn diff_verdicts(before: &Verdict, after: &Verdict) -> VerdictDiff {
    let catalog = Catalog::embedded();
    let index = |verdict: &Verdict| -> BTreeMap<String, PermissionResult> {
        verdict
            .permissions
            .iter()
            .map(|result| (result.permission.clone(), result.clone()))
            .collect()
    };
    let old = index(before);
    let new = index(after);
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut ordered: Vec<&String> = ids.into_iter().collect();
    ordered.sort_by_key(|id| {
        let result = new.get(*id).or_else(|| old.get(*id));
        result.map_or((usize::MAX, Level::Read), |result| {
            (catalog.row_position(&result.row), result.level)
        })
    });
    let mut diff = VerdictDiff {
        before: Side::of(before),
        after: Side::of(after),
        same_key: before.key.masked == after.key.masked,
        gained: Vec::new(),
        lost: Vec::new(),
        changed: Vec::new(),
        code_regressed: severity(after.code) > severity(before.code) && severity(after.code) >= 2,
    };
    for id in ordered {
        let was = old.get(id);
        let now = new.get(id);
        let before_outcome = was.map(|result| result.outcome);
        let after_outcome = now.map(|result| result.outcome);
        if before_outcome == after_outcome {
            continue;
        }
        let Some(label) = now.or(was).map(|result| result.label.clone()) else {
            continue;
        };
        let change = Change {
            permission: id.clone(),
            label,
            before: before_outcome,
            after: after_outcome,
            required: now.or(was).is_some_and(|result| result.required),
        };
        match (before_outcome, after_outcome) {
            (_, Some(Outcome::Granted)) => diff.gained.push(change),
            (Some(Outcome::Granted), Some(Outcome::Missing)) => diff.lost.push(change),
            (Some(_), Some(_)) => diff.changed.push(change),
            // Looked at in only one of the two: not a change of the key, a change of the
            // question (another manifest or tier); a newly looked-at permission that is missing
            // still shows in `changed`.
            (None, Some(_)) => diff.changed.push(change),
            (Some(_), None) => {}
            (None, None) => {}
        }
    }
    diff
}

/// One permission in a comparison with a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The permission id, `row_level`.
    pub permission: String,
    /// As the form shows it.
    pub label: String,
    /// Why it is in this list, when there is more to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A verdict compared with what a manifest needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDiff {
    /// The manifest's id.
    pub manifest: String,
    /// The tier compared, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Whether the manifest's Connect permissions were compared (the verdict was for a
    /// connected account).
    pub connect: bool,
    /// The verdict's code.
    pub code: Code,
    /// The key, masked.
    pub key: String,
    /// Needed, and proven held.
    pub satisfied: Vec<Entry>,
    /// Needed, and proven missing.
    pub missing: Vec<Entry>,
    /// Needed, and not determined by the verdict (unknown, or not looked at).
    pub unknown: Vec<Entry>,
    /// Proven held beyond what the manifest needs (least privilege).
    pub excess: Vec<Entry>,
    /// Whether `excess` is complete: the verdict looked at every row (a scan, or a verify with
    /// the excess check).
    pub excess_complete: bool,
}

impl ManifestDiff {
    /// Whether the key lacks something the manifest needs.
    pub fn has_regressions(&self) -> bool {
        !self.missing.is_empty()
    }
}

/// Compares a verdict (typically a scan) with what `manifest` needs for `tier`: missing,
/// undetermined and excess permissions. With a verdict for a connected account
/// (`subject.stripe_account`), the manifest's Connect permissions are compared.
pub fn diff_manifest(
    verdict: &Verdict,
    manifest: &Manifest,
    tier: Option<&str>,
) -> Result<ManifestDiff, ManifestError> {
    let catalog = Catalog::embedded();
    let connect = verdict.subject.stripe_account.is_some();
    let requirements = if connect {
        manifest.connect_requirements_with(catalog, tier)?
    } else {
        manifest.requirements_with(catalog, tier)?
    };
    let required: BTreeSet<Permission> = requirements
        .iter()
        .map(|requirement| requirement.permission.clone())
        .collect();
    let needed = catalog.effective(&required);
    let results: BTreeMap<&str, &PermissionResult> = verdict
        .permissions
        .iter()
        .map(|result| (result.permission.as_str(), result))
        .collect();
    let secret = verdict.key.kind == Some(KeyKind::Secret) && verdict.code == Code::Ok;
    let granted: BTreeSet<Permission> = verdict
        .granted()
        .map(|result| Permission::new(result.row.clone(), result.level))
        .collect();
    let held = catalog.effective(&granted);

    let mut diff = ManifestDiff {
        manifest: manifest.id.clone(),
        tier: tier.map(str::to_owned),
        connect,
        code: verdict.code,
        key: verdict.key.masked.clone(),
        satisfied: Vec::new(),
        missing: Vec::new(),
        unknown: Vec::new(),
        excess: Vec::new(),
        excess_complete: verdict.subject.command == "scan" || verdict.subject.excess_checked,
    };
    for requirement in &requirements {
        let permission = &requirement.permission;
        let id = permission_id(permission);
        let entry = |detail: Option<String>| Entry {
            permission: id.clone(),
            label: catalog.form_label(permission),
            detail,
        };
        if secret {
            diff.satisfied.push(entry(Some(
                "a secret key holds every permission".to_owned(),
            )));
            continue;
        }
        if held.contains(permission) {
            let detail = results
                .get(id.as_str())
                .filter(|result| result.outcome == Outcome::Granted)
                .map_or_else(
                    || Some("implied by a stronger permission that was granted".to_owned()),
                    |_| None,
                );
            diff.satisfied.push(entry(detail));
            continue;
        }
        let own = results.get(id.as_str());
        // For a Read, a granted Write was handled above; the row's read probe decides.
        match own.map(|result| result.outcome) {
            Some(Outcome::Missing) => diff.missing.push(entry(None)),
            Some(Outcome::Unknown) => diff.unknown.push(entry(
                own.and_then(|result| result.reason.clone())
                    .or_else(|| Some("not determined".to_owned())),
            )),
            Some(Outcome::Granted) => diff.satisfied.push(entry(None)),
            None => diff.unknown.push(entry(Some(
                "the verdict did not look at this permission".to_owned(),
            ))),
        }
    }
    if !secret {
        // The strongest level granted per row, when the manifest does not need it.
        let mut strongest: BTreeMap<&str, Level> = BTreeMap::new();
        for permission in &granted {
            let level = strongest
                .entry(permission.row.as_str())
                .or_insert(permission.level);
            *level = (*level).max(permission.level);
        }
        let mut excess: Vec<Permission> = strongest
            .into_iter()
            .map(|(row, level)| Permission::new(row, level))
            .filter(|permission| !needed.contains(permission))
            .collect();
        catalog.sort_as_form(&mut excess);
        diff.excess = excess
            .iter()
            .map(|permission| {
                let detail = needed
                    .contains(&Permission::new(permission.row.clone(), Level::Read))
                    .then(|| "the manifest needs Read only".to_owned());
                Entry {
                    permission: permission_id(permission),
                    label: catalog.form_label(permission),
                    detail,
                }
            })
            .collect();
    }
    Ok(diff)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::verdict::{KeyInfo, SCHEMA, Subject};
    use rakguard_catalog::key::Mode;

    fn result(id: &str, outcome: Outcome, required: bool) -> PermissionResult {
        let catalog = Catalog::embedded();
        let permission = catalog.permission_by_scope(id).expect(id);
        PermissionResult {
            permission: permission_id(&permission),
            row: permission.row.clone(),
            level: permission.level,
            label: catalog.form_label(&permission),
            required,
            outcome,
            implied_by: None,
            reason: (outcome == Outcome::Unknown).then(|| "HTTP 500".to_owned()),
            evidence: Vec::new(),
        }
    }

    fn verdict(code: Code, command: &str, permissions: Vec<PermissionResult>) -> Verdict {
        Verdict {
            schema: SCHEMA,
            code,
            message: String::new(),
            key: KeyInfo {
                kind: Some(KeyKind::Restricted),
                mode: Some(Mode::Test),
                masked: "rk_test_********wxyz".to_owned(),
            },
            subject: Subject {
                command: command.to_owned(),
                manifest: None,
                tier: None,
                api_base: "http://127.0.0.1".to_owned(),
                stripe_account: None,
                excess_checked: false,
            },
            permissions,
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

    fn ids(entries: &[Change]) -> Vec<&str> {
        entries
            .iter()
            .map(|change| change.permission.as_str())
            .collect()
    }

    #[test]
    fn permissions_gained_lost_and_changed() {
        let before = verdict(
            Code::Ok,
            "verify",
            vec![
                result("customer_read", Outcome::Granted, true),
                result("coupon_write", Outcome::Granted, true),
                result("invoice_read", Outcome::Missing, true),
                result("charge_read", Outcome::Granted, true),
            ],
        );
        let after = verdict(
            Code::PermissionsMissing,
            "verify",
            vec![
                result("customer_read", Outcome::Granted, true),
                result("coupon_write", Outcome::Missing, true),
                result("invoice_read", Outcome::Granted, true),
                result("charge_read", Outcome::Unknown, true),
            ],
        );
        let diff = diff_verdicts(&before, &after);
        assert_eq!(ids(&diff.gained), ["invoice_read"]);
        assert_eq!(ids(&diff.lost), ["coupon_write"]);
        assert_eq!(ids(&diff.changed), ["charge_read"]);
        assert!(diff.code_regressed);
        assert!(diff.has_regressions());
        assert!(diff.same_key);

        let back = diff_verdicts(&after, &before);
        assert_eq!(
            ids(&back.gained),
            ["charge_read", "coupon_write"],
            "in the form's order"
        );
        assert_eq!(ids(&back.lost), ["invoice_read"]);
        assert!(!back.code_regressed);
        assert!(back.has_regressions(), "a lost permission is a regression");
    }

    #[test]
    fn identical_verdicts_have_no_changes() {
        let one = verdict(
            Code::Ok,
            "scan",
            vec![result("customer_read", Outcome::Granted, false)],
        );
        let diff = diff_verdicts(&one, &one.clone());
        assert!(!diff.has_changes());
        assert!(!diff.has_regressions());
    }

    #[test]
    fn an_inconclusive_run_is_not_a_regression_but_a_rejected_key_is() {
        let ok = verdict(Code::Ok, "verify", Vec::new());
        let rate = verdict(Code::RateLimited, "verify", Vec::new());
        let expired = verdict(Code::KeyExpired, "verify", Vec::new());
        assert!(!diff_verdicts(&ok, &rate).has_regressions());
        assert!(diff_verdicts(&ok, &expired).has_regressions());
        assert!(diff_verdicts(&rate, &expired).has_regressions());
        assert!(!diff_verdicts(&expired, &ok).has_regressions());
    }

    fn selgeo() -> Manifest {
        let text = include_str!("../../../examples/manifests/selgeo.toml");
        Manifest::parse(Catalog::embedded(), "selgeo.toml", text).unwrap()
    }

    #[test]
    fn a_scan_against_a_manifest() {
        let manifest = selgeo();
        let mut permissions = vec![
            result("checkout_session_read", Outcome::Granted, false),
            // Write granted covers the manifest's Read, and is excess.
            result("charge_write", Outcome::Granted, false),
            result("customer_read", Outcome::Granted, false),
            result("invoice_read", Outcome::Missing, false),
            result("coupon_write", Outcome::Granted, false),
            result("promotion_code_write", Outcome::Unknown, false),
            result("product_write", Outcome::Granted, false),
        ];
        permissions.push(result("webhook_write", Outcome::Missing, false));
        let scan = verdict(Code::Ok, "scan", permissions);
        let diff = diff_manifest(&scan, &manifest, None).unwrap();
        let names = |entries: &[Entry]| {
            entries
                .iter()
                .map(|entry| entry.permission.clone())
                .collect::<Vec<_>>()
        };
        assert!(names(&diff.satisfied).contains(&"charge_read".to_owned()));
        assert!(names(&diff.satisfied).contains(&"coupon_write".to_owned()));
        assert!(names(&diff.missing).contains(&"invoice_read".to_owned()));
        assert!(
            names(&diff.missing)
                .iter()
                .any(|id| id.starts_with("webhook"))
        );
        assert!(names(&diff.unknown).contains(&"promotion_code_write".to_owned()));
        assert_eq!(names(&diff.excess), ["charge_write", "product_write"]);
        assert_eq!(
            diff.excess[0].detail.as_deref(),
            Some("the manifest needs Read only")
        );
        assert!(diff.excess_complete);
        assert!(diff.has_regressions());
        // Balance transactions were not looked at.
        assert!(
            diff.unknown.iter().any(|entry| entry.detail.as_deref()
                == Some("the verdict did not look at this permission"))
        );
    }

    #[test]
    fn an_unknown_tier_is_an_error() {
        let scan = verdict(Code::Ok, "scan", Vec::new());
        assert!(diff_manifest(&scan, &selgeo(), Some("gold")).is_err());
    }

    #[test]
    fn a_secret_key_satisfies_everything() {
        let mut secret = verdict(Code::Ok, "verify", Vec::new());
        secret.key.kind = Some(KeyKind::Secret);
        let diff = diff_manifest(&secret, &selgeo(), None).unwrap();
        assert_eq!(diff.satisfied.len(), 8);
        assert!(!diff.has_regressions());
    }
}
