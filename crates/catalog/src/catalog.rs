//! The catalogue: the embedded data files parsed once into rows, groups, endpoint rules, probes
//! and templates, with the lookups everything else uses.
//!
//! Parsing validates the whole catalogue and reports every problem it finds, not only the first,
//! each with the file and line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::endpoint::{ExceptionKind, Grade, Matched, Method, Operation, Router, Rule};
use crate::permission::{Group, Level, Levels, Permission, Row, ScopeBasis, bare_scope};
use crate::probe::{Effect, Probe, ProbeBasis};
use crate::template::Template;

/// The data files, compiled in.
pub mod sources {
    /// `data/permissions.csv`.
    pub const PERMISSIONS: &str = include_str!("../data/permissions.csv");
    /// `data/endpoints.csv`.
    pub const ENDPOINTS: &str = include_str!("../data/endpoints.csv");
    /// `data/probes.toml`.
    pub const PROBES: &str = include_str!("../data/probes.toml");
    /// `data/templates.toml`.
    pub const TEMPLATES: &str = include_str!("../data/templates.toml");
}

/// The texts a catalogue is parsed from.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The permission rows (CSV).
    pub permissions: &'a str,
    /// The endpoint rules (CSV).
    pub endpoints: &'a str,
    /// The probes (TOML).
    pub probes: &'a str,
    /// The templates (TOML).
    pub templates: &'a str,
}

impl Sources<'static> {
    /// The data compiled into this build.
    pub const EMBEDDED: Sources<'static> = Sources {
        permissions: sources::PERMISSIONS,
        endpoints: sources::ENDPOINTS,
        probes: sources::PROBES,
        templates: sources::TEMPLATES,
    };
}

/// One problem in the catalogue data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    /// The data file, e.g. `permissions.csv`.
    pub file: &'static str,
    /// The 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DataProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The catalogue data is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// One or more problems, all of them listed.
    #[error("the catalogue data has {} problem(s):\n{}", .0.len(), display_all(.0))]
    Invalid(Vec<DataProblem>),
}

fn display_all(problems: &[DataProblem]) -> String {
    problems
        .iter()
        .map(|problem| format!("  {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The parsed catalogue.
#[derive(Debug, Clone)]
pub struct Catalog {
    rows: Vec<Row>,
    groups: Vec<Group>,
    row_index: HashMap<String, usize>,
    scope_index: HashMap<String, Permission>,
    operations: Vec<Operation>,
    router: Router,
    probes: Vec<Probe>,
    templates: Vec<Template>,
}

static EMBEDDED: LazyLock<Catalog> = LazyLock::new(|| match Catalog::parse(Sources::EMBEDDED) {
    Ok(catalog) => catalog,
    // The embedded data is validated by the test suite on every change, so this is a build
    // defect, not bad input: there is no catalogue to fall back to.
    #[allow(clippy::panic)]
    Err(error) => panic!("the embedded catalogue is invalid: {error}"),
});

impl Catalog {
    /// The catalogue compiled into this build, parsed on first use.
    pub fn embedded() -> &'static Catalog {
        &EMBEDDED
    }

    /// Parses and validates a catalogue, reporting every problem found.
    pub fn parse(sources: Sources<'_>) -> Result<Catalog, CatalogError> {
        let mut problems = Vec::new();
        let rows = parse_rows(sources.permissions, &mut problems);
        let mut catalog = Catalog {
            groups: Vec::new(),
            row_index: HashMap::new(),
            scope_index: HashMap::new(),
            rows: Vec::new(),
            operations: Vec::new(),
            router: Router::default(),
            probes: Vec::new(),
            templates: Vec::new(),
        };
        catalog.index_rows(rows, &mut problems);
        catalog.parse_operations(sources.endpoints, &mut problems);
        catalog.parse_probes(sources.probes, &mut problems);
        catalog.parse_templates(sources.templates, &mut problems);
        if problems.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Invalid(problems))
        }
    }

    /// Every row, in the form's order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The form's sections, in order, each with its row ids.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The row with this id.
    pub fn row(&self, id: &str) -> Option<&Row> {
        self.row_index.get(id).map(|index| &self.rows[*index])
    }

    /// The position of a row on the form (for sorting as the form does).
    pub fn row_position(&self, id: &str) -> usize {
        self.row_index.get(id).copied().unwrap_or(usize::MAX)
    }

    /// Every operation: mapped ones and exceptions.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Every probe.
    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    /// The probe for a permission, when it can be probed.
    pub fn probe(&self, permission: &Permission) -> Option<&Probe> {
        self.probes
            .iter()
            .find(|probe| &probe.permission == permission)
    }

    /// The Dashboard's permission templates.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The template with this id or name (case-insensitive).
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|template| {
            template.id.eq_ignore_ascii_case(name) || template.name.eq_ignore_ascii_case(name)
        })
    }

    /// The operation with exactly this method and path template.
    pub fn operation(&self, method: Method, template: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|operation| operation.method == method && operation.path == template)
    }

    /// The operation a concrete request is for: `(GET, "/v1/customers/cus_123?expand[]=x")`.
    /// Literal segments win over parameters (`/v1/customers/search`), trailing slashes and query
    /// strings are ignored, and percent-encoded segments are decoded.
    pub fn lookup(&self, method: Method, path: &str) -> Option<&Operation> {
        self.router
            .index_of(method, path)
            .map(|index| &self.operations[index])
    }

    /// Like [`Catalog::lookup`], also returning the path parameters by name.
    pub fn lookup_with_params(&self, method: Method, path: &str) -> Option<Matched<'_>> {
        let (index, values) = self.router.at(method, path)?;
        let operation = &self.operations[index];
        let params = operation.param_names().zip(values).collect();
        Some(Matched { operation, params })
    }

    /// The permission a scope id names: `customer_read`, `rak_plan_write`, an Apps name such as
    /// `top_up_read`, or a row id with a level suffix such as `price_write`.
    pub fn permission_by_scope(&self, scope: &str) -> Option<Permission> {
        self.scope_index.get(bare_scope(scope.trim())).cloned()
    }

    /// The scope id of a permission (without `rak_`), when known.
    pub fn scope(&self, permission: &Permission) -> Option<&str> {
        self.row(&permission.row)?.scope(permission.level)
    }

    /// The name used for a permission in messages and JSON: its scope id when known, else
    /// `row:level`.
    pub fn permission_name(&self, permission: &Permission) -> String {
        self.scope(permission)
            .map(str::to_owned)
            .unwrap_or_else(|| permission.to_string())
    }

    /// The permission as the merchant sees it on the form: "Billing → Coupons: Write".
    pub fn form_label(&self, permission: &Permission) -> String {
        match self.row(&permission.row) {
            Some(row) => format!("{}: {}", row.form_label(), permission.level.label()),
            None => permission.to_string(),
        }
    }

    /// The label Stripe's current 403 message uses: "Coupons Write".
    pub fn error_label(&self, permission: &Permission) -> String {
        match self.row(&permission.row) {
            Some(row) => format!("{} {}", row.display_name, permission.level.label()),
            None => permission.to_string(),
        }
    }

    /// Everything a set of held permissions grants: the permissions themselves, read for every
    /// write, and what rows imply.
    pub fn effective(&self, held: &BTreeSet<Permission>) -> BTreeSet<Permission> {
        let mut granted = BTreeSet::new();
        for permission in held {
            granted.insert(permission.clone());
            if permission.level == Level::Write
                && self
                    .row(&permission.row)
                    .is_some_and(|row| row.levels.offers(Level::Read))
            {
                granted.insert(Permission::new(permission.row.clone(), Level::Read));
            }
            if let Some(row) = self.row(&permission.row) {
                for implied in &row.implies {
                    if let Some(implied) = self.permission_by_scope(implied) {
                        granted.insert(implied);
                    }
                }
            }
        }
        granted
    }

    /// Whether holding `held` satisfies `required`.
    pub fn satisfies(&self, held: &BTreeSet<Permission>, required: &Permission) -> bool {
        self.effective(held).contains(required)
    }

    /// Reduces a set of permissions to the fewest that grant the same (drops reads covered by a
    /// write on the same row).
    pub fn minimal(&self, permissions: &BTreeSet<Permission>) -> BTreeSet<Permission> {
        permissions
            .iter()
            .filter(|permission| {
                !(permission.level == Level::Read
                    && permissions.contains(&Permission::new(permission.row.clone(), Level::Write)))
            })
            .cloned()
            .collect()
    }

    /// Sorts permissions as the form lists them.
    pub fn sort_as_form(&self, permissions: &mut [Permission]) {
        permissions
            .sort_by_key(|permission| (self.row_position(&permission.row), permission.level));
    }

    /// Counts of operations by API version and rule, for coverage reports.
    pub fn coverage(&self) -> Coverage {
        let mut coverage = Coverage::default();
        for operation in &self.operations {
            let entry = coverage
                .by_api
                .entry(operation.api_version().to_owned())
                .or_default();
            entry.total += 1;
            match &operation.rule {
                Rule::Mapped { grade, .. } => {
                    entry.mapped += 1;
                    *entry.by_grade.entry(grade.as_str()).or_default() += 1;
                }
                Rule::Excepted { kind } => {
                    *entry.by_exception.entry(kind.as_str()).or_default() += 1;
                }
            }
        }
        coverage
    }

    fn index_rows(&mut self, rows: Vec<(usize, Row)>, problems: &mut Vec<DataProblem>) {
        for (line, row) in rows {
            if self.row_index.contains_key(&row.id) {
                problems.push(problem(
                    "permissions.csv",
                    line,
                    format!("duplicate row id {:?}", row.id),
                ));
                continue;
            }
            for level in row.levels.iter() {
                let names = [
                    row.scope(level).map(str::to_owned),
                    row.apps_name(level).map(str::to_owned),
                    Some(format!("{}_{}", row.id, level)),
                ];
                for name in names.into_iter().flatten() {
                    let permission = Permission::new(row.id.clone(), level);
                    if let Some(existing) = self.scope_index.get(&name) {
                        if existing != &permission && row.scope(level) == Some(name.as_str()) {
                            problems.push(problem(
                                "permissions.csv",
                                line,
                                format!("scope id {name:?} is already used by {existing}"),
                            ));
                        }
                        continue;
                    }
                    self.scope_index.insert(name, permission);
                }
            }
            let continues_group = self.rows.last().is_some_and(|last| last.group == row.group);
            match self.groups.iter_mut().find(|group| group.name == row.group) {
                Some(group) => {
                    if !continues_group {
                        problems.push(problem(
                            "permissions.csv",
                            line,
                            format!(
                                "row {:?} is separated from the rest of group {:?}",
                                row.id, row.group
                            ),
                        ));
                    }
                    group.rows.push(row.id.clone());
                }
                None => self.groups.push(Group {
                    name: row.group.clone(),
                    rows: vec![row.id.clone()],
                }),
            }
            self.row_index.insert(row.id.clone(), self.rows.len());
            self.rows.push(row);
        }
        // Scope ids always win over derived names of other rows: a second pass makes sure the
        // row that owns a scope id is the one it resolves to.
        for row in &self.rows {
            for level in row.levels.iter() {
                if let Some(scope) = row.scope(level) {
                    self.scope_index
                        .insert(scope.to_owned(), Permission::new(row.id.clone(), level));
                }
            }
        }
        for (index, row) in self.rows.iter().enumerate() {
            for implied in &row.implies {
                if !self.scope_index.contains_key(bare_scope(implied)) {
                    problems.push(problem(
                        "permissions.csv",
                        index + 2,
                        format!("row {:?} implies unknown permission {implied:?}", row.id),
                    ));
                }
            }
        }
    }

    fn parse_operations(&mut self, text: &str, problems: &mut Vec<DataProblem>) {
        #[derive(Deserialize)]
        struct Raw {
            method: String,
            path: String,
            status: String,
            row: String,
            level: String,
            grade: String,
            names: String,
            basis: String,
        }
        let mut seen = BTreeMap::new();
        for (line, raw) in read_csv::<Raw>("endpoints.csv", text, problems) {
            let file = "endpoints.csv";
            let Ok(method) = raw.method.parse::<Method>() else {
                problems.push(problem(
                    file,
                    line,
                    format!("unknown method {:?}", raw.method),
                ));
                continue;
            };
            if !raw.path.starts_with("/v1/") && !raw.path.starts_with("/v2/") {
                problems.push(problem(
                    file,
                    line,
                    format!("path {:?} must start with /v1/ or /v2/", raw.path),
                ));
                continue;
            }
            if let Some(first) = seen.insert((method, raw.path.clone()), line) {
                problems.push(problem(
                    file,
                    line,
                    format!("{method} {} is already listed on line {first}", raw.path),
                ));
                continue;
            }
            let rule = if raw.status == "mapped" {
                let level = match raw.level.parse::<Level>() {
                    Ok(level) => level,
                    Err(error) => {
                        problems.push(problem(file, line, error.to_string()));
                        continue;
                    }
                };
                let grade = match raw.grade.parse::<Grade>() {
                    Ok(grade) => grade,
                    Err(error) => {
                        problems.push(problem(file, line, error));
                        continue;
                    }
                };
                match self.row(&raw.row) {
                    None => {
                        problems.push(problem(file, line, format!("unknown row {:?}", raw.row)));
                        continue;
                    }
                    Some(row) if !row.levels.offers(level) => {
                        problems.push(problem(
                            file,
                            line,
                            format!(
                                "row {:?} does not offer {level} ({})",
                                raw.row,
                                row.levels.label()
                            ),
                        ));
                        continue;
                    }
                    Some(_) => {}
                }
                let names = split_list(&raw.names)
                    .map(|name| bare_scope(name).to_owned())
                    .collect();
                Rule::Mapped {
                    permission: Permission::new(raw.row, level),
                    grade,
                    names,
                }
            } else {
                match raw.status.parse::<ExceptionKind>() {
                    Ok(kind) => {
                        if !raw.row.is_empty() || !raw.level.is_empty() || !raw.grade.is_empty() {
                            problems.push(problem(
                                file,
                                line,
                                "an exception names no row, level or grade",
                            ));
                        }
                        if raw.basis.trim().is_empty() {
                            problems.push(problem(
                                file,
                                line,
                                "an exception must give its reason in `basis`",
                            ));
                        }
                        Rule::Excepted { kind }
                    }
                    Err(error) => {
                        problems.push(problem(file, line, error));
                        continue;
                    }
                }
            };
            let index = self.operations.len();
            if let Err(conflict) = self.router.insert(method, &raw.path, index) {
                problems.push(problem(file, line, conflict.to_string()));
                continue;
            }
            self.operations.push(Operation {
                method,
                path: raw.path,
                rule,
                basis: raw.basis,
            });
        }
    }

    fn parse_probes(&mut self, text: &str, problems: &mut Vec<DataProblem>) {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            probe: Vec<toml::Spanned<RawProbe>>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawProbe {
            row: String,
            level: Level,
            method: Method,
            path: String,
            #[serde(default)]
            body: String,
            granted: Vec<u16>,
            effect: Effect,
            #[serde(default)]
            invalid: String,
            #[serde(default)]
            cleanup: String,
            basis: ProbeBasis,
            #[serde(default)]
            note: String,
        }
        let file = "probes.toml";
        let parsed: File = match toml::from_str(text) {
            Ok(parsed) => parsed,
            Err(error) => {
                let line = error.span().map(|span| line_of(text, span.start));
                problems.push(DataProblem {
                    file,
                    line,
                    message: error.message().to_owned(),
                });
                return;
            }
        };
        let mut seen = BTreeSet::new();
        for spanned in parsed.probe {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let permission = Permission::new(raw.row.clone(), raw.level);
            match self.row(&raw.row) {
                None => {
                    problems.push(problem(file, line, format!("unknown row {:?}", raw.row)));
                    continue;
                }
                Some(row) if !row.levels.offers(raw.level) => {
                    problems.push(problem(
                        file,
                        line,
                        format!("row {:?} does not offer {}", raw.row, raw.level),
                    ));
                    continue;
                }
                Some(_) => {}
            }
            if !seen.insert(permission.clone()) {
                problems.push(problem(
                    file,
                    line,
                    format!("a second probe for {permission}"),
                ));
                continue;
            }
            let probe = Probe {
                permission,
                method: raw.method,
                path: raw.path,
                body: raw.body,
                granted: raw.granted,
                effect: raw.effect,
                invalid: raw.invalid,
                cleanup: raw.cleanup,
                basis: raw.basis,
                note: raw.note,
            };
            for rule in probe.check_rules() {
                problems.push(problem(
                    file,
                    line,
                    format!("probe for {}: {rule}", probe.permission),
                ));
            }
            self.probes.push(probe);
        }
    }

    fn parse_templates(&mut self, text: &str, problems: &mut Vec<DataProblem>) {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            template: Vec<toml::Spanned<RawTemplate>>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawTemplate {
            id: String,
            name: String,
            description: String,
            known: bool,
            confidence: String,
            #[serde(default)]
            source: String,
            #[serde(default)]
            permissions: Vec<String>,
        }
        let file = "templates.toml";
        let parsed: File = match toml::from_str(text) {
            Ok(parsed) => parsed,
            Err(error) => {
                let line = error.span().map(|span| line_of(text, span.start));
                problems.push(DataProblem {
                    file,
                    line,
                    message: error.message().to_owned(),
                });
                return;
            }
        };
        for spanned in parsed.template {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let mut permissions = Vec::new();
            for name in &raw.permissions {
                match self.parse_row_level(name) {
                    Some(permission) => permissions.push(permission),
                    None => problems.push(problem(
                        file,
                        line,
                        format!(
                            "template {:?}: unknown permission {name:?} (expected row:level)",
                            raw.id
                        ),
                    )),
                }
            }
            if !matches!(raw.confidence.as_str(), "none" | "low" | "medium" | "high") {
                problems.push(problem(
                    file,
                    line,
                    format!(
                        "template {:?}: confidence must be none, low, medium or high",
                        raw.id
                    ),
                ));
            }
            if raw.known == permissions.is_empty() {
                problems.push(problem(
                    file,
                    line,
                    format!(
                        "template {:?}: `known` must say whether permissions are listed",
                        raw.id
                    ),
                ));
            }
            self.templates.push(Template {
                id: raw.id,
                name: raw.name,
                description: raw.description,
                known: raw.known,
                confidence: raw.confidence,
                source: raw.source,
                permissions,
            });
        }
    }

    /// Resolves what a person or a manifest wrote into a permission. Accepted spellings: a scope
    /// id (`charge_read`, `rak_plan_write`), a Stripe Apps name (`top_up_read`), `row:level`
    /// (`price:write`), or the form's label and level (`Charges: Read`, `Charges and Refunds
    /// Write`, `Billing → Coupons: Write`). The error suggests the closest known name.
    pub fn resolve(&self, text: &str) -> Result<Permission, ResolveError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(ResolveError::Empty);
        }
        if let Some(permission) = self.permission_by_scope(trimmed) {
            return Ok(permission);
        }
        if let Some(permission) = self.parse_row_level(trimmed) {
            return Ok(permission);
        }
        if let Some((label, level)) = split_label_level(trimmed) {
            let (group, name) = split_group(label);
            let candidates: Vec<&Row> = self
                .rows
                .iter()
                .filter(|row| {
                    let group_matches =
                        group.is_none_or(|group| row.group.eq_ignore_ascii_case(group));
                    group_matches
                        && (row.display_name.eq_ignore_ascii_case(name)
                            || row
                                .aliases
                                .iter()
                                .any(|alias| alias.eq_ignore_ascii_case(name)))
                })
                .collect();
            match candidates.as_slice() {
                [row] => {
                    return if row.levels.offers(level) {
                        Ok(Permission::new(row.id.clone(), level))
                    } else {
                        Err(ResolveError::LevelNotOffered {
                            text: trimmed.to_owned(),
                            row: row.form_label(),
                            levels: row.levels.label(),
                        })
                    };
                }
                [] => {}
                several => {
                    return Err(ResolveError::Ambiguous {
                        text: trimmed.to_owned(),
                        candidates: several
                            .iter()
                            .map(|row| format!("{}: {}", row.form_label(), level.label()))
                            .collect(),
                    });
                }
            }
        }
        Err(ResolveError::Unknown {
            text: trimmed.to_owned(),
            suggestion: self.suggest(trimmed),
        })
    }

    /// The known permission name closest to `text`, for "did you mean …?" hints.
    pub fn suggest(&self, text: &str) -> Option<String> {
        let wanted = text.trim().to_ascii_lowercase();
        let mut best: Option<(f64, String)> = None;
        let mut consider = |candidate: String| {
            let score = strsim::jaro_winkler(&wanted, &candidate.to_ascii_lowercase());
            if best.as_ref().is_none_or(|(top, _)| score > *top) {
                best = Some((score, candidate));
            }
        };
        for row in &self.rows {
            for level in row.levels.iter() {
                if let Some(scope) = row.scope(level) {
                    consider(scope.to_owned());
                }
                if let Some(name) = row.apps_name(level) {
                    consider(name.to_owned());
                }
                consider(format!("{}_{}", row.id, level));
                consider(format!("{}: {}", row.display_name, level.label()));
            }
        }
        best.filter(|(score, _)| *score >= 0.8)
            .map(|(_, name)| name)
    }

    /// Parses `row:level` (the data files' spelling of a permission).
    pub fn parse_row_level(&self, text: &str) -> Option<Permission> {
        let (row, level) = text.split_once(':')?;
        let level = level.parse::<Level>().ok()?;
        let row = self.row(row.trim())?;
        row.levels
            .offers(level)
            .then(|| Permission::new(row.id.clone(), level))
    }
}

/// A permission name that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Nothing was written.
    #[error(
        "empty permission name: write a permission id such as customer_read, or a label such as \"Customers: Read\""
    )]
    Empty,
    /// The name matches no permission.
    #[error("unknown permission {text:?}{}", suggestion.as_ref().map(|name| format!(" (did you mean {name}?)")).unwrap_or_default())]
    Unknown {
        /// What was written.
        text: String,
        /// The closest known name, if any is close.
        suggestion: Option<String>,
    },
    /// The label matches several rows (e.g. "Disputes" in Core and in Issuing).
    #[error("{text:?} matches several rows: {}; name the section too, e.g. \"{}\"", candidates.join(", "), candidates.first().map(String::as_str).unwrap_or_default())]
    Ambiguous {
        /// What was written.
        text: String,
        /// The rows it could mean.
        candidates: Vec<String>,
    },
    /// The row exists but does not offer that level.
    #[error("{text:?}: the row {row} offers {levels} only")]
    LevelNotOffered {
        /// What was written.
        text: String,
        /// The row as the form shows it.
        row: String,
        /// The levels it offers.
        levels: &'static str,
    },
}

/// Operation counts for one API version.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApiCoverage {
    /// Operations listed.
    pub total: usize,
    /// Operations mapped to a permission.
    pub mapped: usize,
    /// Mapped operations by grade.
    pub by_grade: BTreeMap<&'static str, usize>,
    /// Exceptions by kind.
    pub by_exception: BTreeMap<&'static str, usize>,
}

/// Operation counts by API version (`v1`, `v2`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Coverage {
    /// Counts per API version.
    pub by_api: BTreeMap<String, ApiCoverage>,
}

fn parse_rows(text: &str, problems: &mut Vec<DataProblem>) -> Vec<(usize, Row)> {
    #[derive(Deserialize)]
    struct Raw {
        id: String,
        group: String,
        display_name: String,
        aliases: String,
        levels: String,
        read_scope: String,
        write_scope: String,
        apps_read: String,
        apps_write: String,
        connect: String,
        scope_basis: String,
        implies: String,
        note: String,
    }
    let file = "permissions.csv";
    let mut rows = Vec::new();
    for (line, raw) in read_csv::<Raw>(file, text, problems) {
        let levels = match raw.levels.parse::<Levels>() {
            Ok(levels) => levels,
            Err(error) => {
                problems.push(problem(file, line, error.to_string()));
                continue;
            }
        };
        let scope_basis = match raw.scope_basis.parse::<ScopeBasis>() {
            Ok(basis) => basis,
            Err(error) => {
                problems.push(problem(file, line, error));
                continue;
            }
        };
        let connect = match raw.connect.as_str() {
            "yes" => true,
            "no" => false,
            other => {
                problems.push(problem(
                    file,
                    line,
                    format!("connect must be yes or no, not {other:?}"),
                ));
                continue;
            }
        };
        if raw.id.is_empty()
            || !raw
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            problems.push(problem(
                file,
                line,
                format!("row id {:?} must be snake_case", raw.id),
            ));
            continue;
        }
        let scope = |level: Level, text: &str| -> Option<String> {
            let text = bare_scope(text.trim());
            (!text.is_empty() && levels.offers(level)).then(|| text.to_owned())
        };
        for (level, text) in [
            (Level::Read, &raw.read_scope),
            (Level::Write, &raw.write_scope),
        ] {
            if !text.is_empty() && !levels.offers(level) {
                problems.push(problem(
                    file,
                    line,
                    format!(
                        "row {:?} has a {level} scope but does not offer {level}",
                        raw.id
                    ),
                ));
            }
            if !text.is_empty() && !text.ends_with(&format!("_{level}")) {
                problems.push(problem(
                    file,
                    line,
                    format!("scope {text:?} should end in _{level}"),
                ));
            }
        }
        let apps = |level: Level, text: &str, scope: &Option<String>| -> Option<String> {
            match text.trim() {
                "-" => None,
                "" => levels.offers(level).then(|| scope.clone()).flatten(),
                name => Some(name.to_owned()),
            }
        };
        let read_scope = scope(Level::Read, &raw.read_scope);
        let write_scope = scope(Level::Write, &raw.write_scope);
        rows.push((
            line,
            Row {
                apps_read: apps(Level::Read, &raw.apps_read, &read_scope),
                apps_write: apps(Level::Write, &raw.apps_write, &write_scope),
                id: raw.id,
                group: raw.group,
                display_name: raw.display_name,
                aliases: split_list(&raw.aliases).map(str::to_owned).collect(),
                levels,
                read_scope,
                write_scope,
                connect,
                scope_basis,
                implies: split_list(&raw.implies)
                    .map(|name| bare_scope(name).to_owned())
                    .collect(),
                note: raw.note,
            },
        ));
    }
    rows
}

fn read_csv<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    text: &str,
    problems: &mut Vec<DataProblem>,
) -> Vec<(usize, T)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            problems.push(DataProblem {
                file,
                line: Some(1),
                message: error.to_string(),
            });
            return Vec::new();
        }
    };
    let mut records = Vec::new();
    for result in reader.records() {
        let record = match result {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .and_then(|position| usize::try_from(position.line()).ok());
                problems.push(DataProblem {
                    file,
                    line,
                    message: error.to_string(),
                });
                continue;
            }
        };
        let line = record
            .position()
            .and_then(|position| usize::try_from(position.line()).ok())
            .unwrap_or(0);
        match record.deserialize::<T>(Some(&headers)) {
            Ok(value) => records.push((line, value)),
            Err(error) => problems.push(problem(file, line, error.to_string())),
        }
    }
    records
}

/// Splits "Charges: Read" / "Charges Read" / "Charges - Write" into the label and the level.
fn split_label_level(text: &str) -> Option<(&str, Level)> {
    let trimmed = text.trim_end();
    let cut = trimmed.rfind([' ', ':', '-', '—', '–', '='])?;
    let (label, level) = trimmed.split_at(cut);
    let level = level
        .trim_start_matches([' ', ':', '-', '—', '–', '='])
        .parse::<Level>()
        .ok()?;
    let label = label
        .trim_end_matches([' ', ':', '-', '—', '–', '='])
        .trim();
    (!label.is_empty()).then_some((label, level))
}

/// Splits "Billing → Coupons" or "Billing > Coupons" into the group and the row label.
fn split_group(label: &str) -> (Option<&str>, &str) {
    for separator in ["→", "->", ">", "/"] {
        if let Some((group, name)) = label.split_once(separator) {
            return (Some(group.trim()), name.trim());
        }
    }
    (None, label)
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn problem(file: &'static str, line: usize, message: impl Into<String>) -> DataProblem {
    DataProblem {
        file,
        line: Some(line),
        message: message.into(),
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}
