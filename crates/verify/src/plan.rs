//! Which probes to send, and in what order, for each row of the form. Pure.
//!
//! Write implies read, so a row whose write level matters is probed at write first; its read
//! probe is sent only when write is not granted (to tell Read from None). A row where only read
//! matters is probed at read. Nothing else is sent.

use std::collections::BTreeMap;

use rakguard_catalog::Catalog;
use rakguard_catalog::permission::{Level, Levels, Permission};
use rakguard_catalog::probe::Probe;

use crate::verdict::{Evidence, Held, Outcome, PermissionResult, permission_id};

/// What a row must establish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Want {
    /// Whether the key can read (a required Read).
    Read,
    /// The level the key holds: write first, then read if write is not granted.
    Enumerate,
}

/// One probe's settled result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Granted, missing or unknown.
    pub outcome: Outcome,
    /// Why, for unknown.
    pub reason: Option<String>,
    /// The requests behind it.
    pub evidence: Vec<Evidence>,
}

/// A row's plan and what its probes answered so far.
#[derive(Debug, Clone)]
pub struct RowPlan {
    /// The row id.
    pub row: String,
    /// What the row must establish.
    pub want: Want,
    /// Which levels the form offers on this row.
    pub levels: Levels,
    /// The write probe, if the catalogue has one.
    pub write: Option<Probe>,
    /// The read probe, if the catalogue has one.
    pub read: Option<Probe>,
    /// The write probe's result.
    pub write_result: Option<Settled>,
    /// The read probe's result.
    pub read_result: Option<Settled>,
}

impl RowPlan {
    /// The probe to send next, or `None` when the row is settled.
    pub fn next(&self) -> Option<&Probe> {
        let write_pending = self.write.is_some() && self.write_result.is_none();
        let read_pending = self.read.is_some() && self.read_result.is_none();
        let write_granted = self
            .write_result
            .as_ref()
            .is_some_and(|settled| settled.outcome == Outcome::Granted);
        match self.want {
            Want::Read => {
                if self.read.is_some() {
                    if read_pending {
                        self.read.as_ref()
                    } else {
                        None
                    }
                } else if write_pending {
                    self.write.as_ref()
                } else {
                    None
                }
            }
            Want::Enumerate => {
                if write_pending {
                    self.write.as_ref()
                } else if !write_granted && read_pending {
                    self.read.as_ref()
                } else {
                    None
                }
            }
        }
    }

    /// Records a probe's result.
    pub fn settle(&mut self, level: Level, settled: Settled) {
        match level {
            Level::Read => self.read_result = Some(settled),
            Level::Write => self.write_result = Some(settled),
        }
    }

    /// The result for one level of the row.
    pub fn result(&self, catalog: &Catalog, level: Level, required: bool) -> PermissionResult {
        let permission = Permission::new(self.row.clone(), level);
        let base =
            |outcome: Outcome, reason: Option<String>, evidence: Vec<Evidence>| PermissionResult {
                permission: permission_id(&permission),
                row: self.row.clone(),
                level,
                label: catalog.form_label(&permission),
                required,
                outcome,
                implied_by: None,
                reason,
                evidence,
            };
        if !self.levels.offers(level) {
            return base(
                Outcome::Unknown,
                Some(format!(
                    "the form offers no {} level on this row",
                    level.label()
                )),
                Vec::new(),
            );
        }
        if level == Level::Read
            && let Some(write) = &self.write_result
            && write.outcome == Outcome::Granted
        {
            let mut result = base(Outcome::Granted, None, write.evidence.clone());
            result.implied_by = Some(permission_id(&Permission::new(
                self.row.clone(),
                Level::Write,
            )));
            return result;
        }
        let (probe, settled) = match level {
            Level::Read => (&self.read, &self.read_result),
            Level::Write => (&self.write, &self.write_result),
        };
        match (probe, settled) {
            (_, Some(settled)) => base(
                settled.outcome,
                settled.reason.clone(),
                settled.evidence.clone(),
            ),
            (None, None) => base(
                Outcome::Unknown,
                Some(format!(
                    "the catalogue has no probe for {}",
                    catalog.form_label(&permission)
                )),
                Vec::new(),
            ),
            (Some(_), None) => base(
                Outcome::Unknown,
                Some("not probed: the answer was not needed".to_owned()),
                Vec::new(),
            ),
        }
    }

    /// The level held, from what is settled.
    pub fn held(&self) -> Held {
        let outcome = |settled: &Option<Settled>| settled.as_ref().map(|settled| settled.outcome);
        let write = outcome(&self.write_result);
        let read = outcome(&self.read_result);
        match self.levels {
            Levels::Read => match read {
                Some(Outcome::Granted) => Held::Read,
                Some(Outcome::Missing) => Held::None,
                _ => Held::Unknown,
            },
            Levels::Write => match write {
                Some(Outcome::Granted) => Held::Write,
                Some(Outcome::Missing) => Held::None,
                _ => Held::Unknown,
            },
            Levels::ReadWrite => match (write, read) {
                (Some(Outcome::Granted), _) => Held::Write,
                (Some(Outcome::Missing), Some(Outcome::Granted)) => Held::Read,
                (Some(Outcome::Missing), Some(Outcome::Missing)) => Held::None,
                (_, Some(Outcome::Granted)) => Held::ReadOrWrite,
                _ => Held::Unknown,
            },
        }
    }
}

/// Builds the row plans for `wants`, with probes from `probes` (one per permission; the first
/// wins), in the form's order.
pub fn build(catalog: &Catalog, probes: &[Probe], wants: &BTreeMap<String, Want>) -> Vec<RowPlan> {
    let find = |row: &str, level: Level| {
        probes
            .iter()
            .find(|probe| probe.permission.row == row && probe.permission.level == level)
            .cloned()
    };
    let mut plans: Vec<RowPlan> = wants
        .iter()
        .filter_map(|(row, want)| {
            let levels = catalog.row(row)?.levels;
            Some(RowPlan {
                row: row.clone(),
                want: *want,
                levels,
                write: find(row, Level::Write),
                read: find(row, Level::Read),
                write_result: None,
                read_result: None,
            })
        })
        .collect();
    plans.sort_by_key(|plan| catalog.row_position(&plan.row));
    plans
}

/// The wants for a set of required permissions: a required write is enumerated (so a key with
/// only read is reported as such), a required read is probed at read.
pub fn wants_for(required: &[Permission]) -> BTreeMap<String, Want> {
    let mut wants = BTreeMap::new();
    for permission in required {
        let want = match permission.level {
            Level::Read => Want::Read,
            Level::Write => Want::Enumerate,
        };
        let entry = wants.entry(permission.row.clone()).or_insert(want);
        *entry = (*entry).max(want);
    }
    wants
}

/// Requests the plans would need at most (two per row with both probes, one otherwise).
pub fn worst_case_requests(plans: &[RowPlan]) -> usize {
    plans
        .iter()
        .map(|plan| match plan.want {
            Want::Read => usize::from(plan.read.is_some() || plan.write.is_some()),
            Want::Enumerate => usize::from(plan.write.is_some()) + usize::from(plan.read.is_some()),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(outcome: Outcome) -> Settled {
        Settled {
            outcome,
            reason: None,
            evidence: Vec::new(),
        }
    }

    fn plan(row: &str, want: Want) -> RowPlan {
        let catalog = Catalog::embedded();
        let wants = BTreeMap::from([(row.to_owned(), want)]);
        build(catalog, catalog.probes(), &wants)
            .pop()
            .unwrap_or_else(|| panic!("no plan for {row}"))
    }

    #[test]
    fn write_first_and_read_only_when_write_is_not_granted() {
        let mut plan = plan("coupon", Want::Enumerate);
        assert_eq!(plan.next().map(|p| p.permission.level), Some(Level::Write));
        plan.settle(Level::Write, settled(Outcome::Granted));
        assert!(plan.next().is_none(), "write granted: read is implied");
        assert_eq!(plan.held(), Held::Write);
        let read = plan.result(Catalog::embedded(), Level::Read, true);
        assert_eq!(read.outcome, Outcome::Granted);
        assert_eq!(read.implied_by.as_deref(), Some("coupon_write"));

        let mut plan = super::tests::plan("coupon", Want::Enumerate);
        plan.settle(Level::Write, settled(Outcome::Missing));
        assert_eq!(plan.next().map(|p| p.permission.level), Some(Level::Read));
        plan.settle(Level::Read, settled(Outcome::Granted));
        assert!(plan.next().is_none());
        assert_eq!(plan.held(), Held::Read);
    }

    #[test]
    fn a_required_read_costs_one_request() {
        let mut plan = plan("customer", Want::Read);
        assert_eq!(plan.next().map(|p| p.permission.level), Some(Level::Read));
        plan.settle(Level::Read, settled(Outcome::Missing));
        assert!(plan.next().is_none());
        let write = plan.result(Catalog::embedded(), Level::Write, false);
        assert_eq!(write.outcome, Outcome::Unknown);
    }

    #[test]
    fn wants_merge_to_the_stronger() {
        let wants = wants_for(&[
            Permission::new("coupon", Level::Read),
            Permission::new("coupon", Level::Write),
            Permission::new("customer", Level::Read),
        ]);
        assert_eq!(wants.get("coupon"), Some(&Want::Enumerate));
        assert_eq!(wants.get("customer"), Some(&Want::Read));
    }

    #[test]
    fn a_scan_needs_fewer_than_two_requests_per_row() {
        let catalog = Catalog::embedded();
        let wants: BTreeMap<String, Want> = catalog
            .rows()
            .iter()
            .map(|row| (row.id.clone(), Want::Enumerate))
            .collect();
        let plans = build(catalog, catalog.probes(), &wants);
        assert_eq!(plans.len(), catalog.rows().len());
        assert!(worst_case_requests(&plans) < 2 * catalog.rows().len());
    }
}
