//! Merchant-facing setup guides: how to create (or obtain) the restricted key a manifest asks
//! for, as Markdown or as a standalone HTML page.
//!
//! A guide is built once as a small document model (headings, paragraphs, lists, tables) and then
//! written out in the requested format, so the Markdown and HTML versions always say the same
//! thing. Output is deterministic: no timestamps, no map iteration order.

use std::fmt;
use std::str::FromStr;

use crate::catalog::Catalog;
use crate::dashboard::{api_keys_url, create_key_url};
use crate::key::Mode;
use crate::manifest::{Manifest, ManifestError, Requirement, Tier};
use crate::permission::Permission;

/// The output format of a guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GuideFormat {
    /// GitHub-flavoured Markdown.
    #[default]
    Markdown,
    /// A complete, standalone HTML document: no scripts, no external assets.
    Html,
}

impl GuideFormat {
    /// The name used on the command line: `md` or `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuideFormat::Markdown => "md",
            GuideFormat::Html => "html",
        }
    }
}

impl fmt::Display for GuideFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is neither `md` nor `html`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown guide format {0:?}: expected \"md\" or \"html\"")]
pub struct UnknownGuideFormat(pub String);

impl FromStr for GuideFormat {
    type Err = UnknownGuideFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(GuideFormat::Markdown),
            "html" => Ok(GuideFormat::Html),
            _ => Err(UnknownGuideFormat(text.to_owned())),
        }
    }
}

/// How the merchant gets the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GuideKind {
    /// The merchant creates the restricted key by hand in the Dashboard (or from a prefilled link).
    #[default]
    CreateKey,
    /// The integration is a Stripe App with restricted-key authentication: Stripe issues the key
    /// on install and the merchant copies it from the app's settings page.
    StripeApp,
}

impl GuideKind {
    /// The name used on the command line: `create-key` or `stripe-app`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuideKind::CreateKey => "create-key",
            GuideKind::StripeApp => "stripe-app",
        }
    }
}

impl fmt::Display for GuideKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A guide kind that is neither `create-key` nor `stripe-app`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown guide kind {0:?}: expected \"create-key\" or \"stripe-app\"")]
pub struct UnknownGuideKind(pub String);

impl FromStr for GuideKind {
    type Err = UnknownGuideKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "create-key" => Ok(GuideKind::CreateKey),
            "stripe-app" => Ok(GuideKind::StripeApp),
            _ => Err(UnknownGuideKind(text.to_owned())),
        }
    }
}

/// What to render. `GuideOptions::default()` is a Markdown create-key guide for test mode and the
/// manifest's base permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideOptions {
    /// The tier the guide is for (its id or name); `None` for the permissions every tier needs.
    pub tier: Option<String>,
    /// The mode the key is created in.
    pub mode: Mode,
    /// Markdown or HTML.
    pub format: GuideFormat,
    /// Create the key by hand, or get it from a Stripe App.
    pub kind: GuideKind,
    /// Where the merchant pastes the key, in words: "Settings → Stripe in the Selgeo dashboard".
    pub paste_location: Option<String>,
    /// A link to that place (`http` or `https` only).
    pub integration_url: Option<String>,
}

impl Default for GuideOptions {
    fn default() -> Self {
        GuideOptions {
            tier: None,
            mode: Mode::Test,
            format: GuideFormat::Markdown,
            kind: GuideKind::CreateKey,
            paste_location: None,
            integration_url: None,
        }
    }
}

/// A guide cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuideError {
    /// The requested tier is not in the manifest.
    #[error("the manifest has no tier {tier:?}; its tiers are: {}", list_or_none(.known))]
    UnknownTier {
        /// The tier asked for.
        tier: String,
        /// The ids of the manifest's tiers.
        known: Vec<String>,
    },
    /// Without a tier the manifest needs no permissions, so a tier must be chosen.
    #[error("the manifest's base needs no permissions; choose a tier: {}", list_or_none(.known))]
    TierRequired {
        /// The ids of the manifest's tiers.
        known: Vec<String>,
    },
    /// The manifest (at this tier) needs no permissions at all, so there is nothing to set up.
    #[error("the manifest needs no permissions, so there is no key to set up")]
    NothingToGrant,
    /// The manifest could not answer what the key needs.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The integration link is not an `http` or `https` address.
    #[error("the integration link must start with https:// or http://, got {0:?}")]
    InvalidUrl(String),
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        String::from("(none)")
    } else {
        items.join(", ")
    }
}

/// A prefilled "Create restricted key" link and what it cannot set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateKeyLink {
    /// The Dashboard address with the key name and one `permissions[]=rak_…` per known scope id.
    pub url: String,
    /// Permissions whose scope id is unknown: the merchant sets these by hand.
    pub manual: Vec<Permission>,
}

/// The prefilled create-key link for a manifest at a tier, in a mode.
///
/// Connect-column permissions are never part of the link (no link syntax for them is known).
pub fn create_key_link(
    catalog: &Catalog,
    manifest: &Manifest,
    tier: Option<&str>,
    mode: Mode,
) -> Result<CreateKeyLink, GuideError> {
    let needs = Needs::resolve(catalog, manifest, tier)?;
    Ok(needs.link(catalog, manifest, mode))
}

/// Renders the setup guide of `manifest` as `options` ask.
pub fn render(
    catalog: &Catalog,
    manifest: &Manifest,
    options: &GuideOptions,
) -> Result<String, GuideError> {
    if let Some(url) = &options.integration_url {
        let lower = url.trim().to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(GuideError::InvalidUrl(url.clone()));
        }
    }
    let needs = Needs::resolve(catalog, manifest, options.tier.as_deref())?;
    let writer = Writer {
        catalog,
        manifest,
        options,
        needs: &needs,
    };
    let title = writer.title();
    let blocks = writer.blocks(&title);
    Ok(match options.format {
        GuideFormat::Markdown => markdown::document(&blocks),
        GuideFormat::Html => html::document(&title, &blocks),
    })
}

/// What the key must hold for one tier.
struct Needs<'m> {
    tier: Option<&'m Tier>,
    /// Permissions-column requirements, in form order.
    permissions: Vec<Requirement>,
    /// Connect-column requirements, in form order.
    connect: Vec<Requirement>,
}

impl<'m> Needs<'m> {
    fn resolve(
        catalog: &Catalog,
        manifest: &'m Manifest,
        tier: Option<&str>,
    ) -> Result<Self, GuideError> {
        let known = || {
            manifest
                .tiers
                .iter()
                .map(|tier| tier.id.clone())
                .collect::<Vec<_>>()
        };
        let tier = match tier {
            Some(wanted) => {
                Some(
                    find_tier(manifest, wanted).ok_or_else(|| GuideError::UnknownTier {
                        tier: wanted.to_owned(),
                        known: known(),
                    })?,
                )
            }
            None => None,
        };
        let tier_id = tier.map(|tier| tier.id.as_str());
        let permissions = manifest.requirements_with(catalog, tier_id)?;
        let connect = manifest.connect_requirements_with(catalog, tier_id)?;
        if permissions.is_empty() && connect.is_empty() {
            if tier.is_none() && !manifest.tiers.is_empty() {
                return Err(GuideError::TierRequired { known: known() });
            }
            return Err(GuideError::NothingToGrant);
        }
        Ok(Needs {
            tier,
            permissions,
            connect,
        })
    }

    fn link(&self, catalog: &Catalog, manifest: &Manifest, mode: Mode) -> CreateKeyLink {
        let mut scopes = Vec::new();
        let mut manual = Vec::new();
        for requirement in &self.permissions {
            match catalog.scope(&requirement.permission) {
                Some(scope) => scopes.push(scope),
                None => manual.push(requirement.permission.clone()),
            }
        }
        CreateKeyLink {
            url: create_key_url(mode, &manifest.key_name, scopes),
            manual,
        }
    }
}

fn find_tier<'m>(manifest: &'m Manifest, wanted: &str) -> Option<&'m Tier> {
    let wanted = wanted.trim();
    manifest
        .tiers
        .iter()
        .find(|tier| tier.id == wanted)
        .or_else(|| {
            manifest.tiers.iter().find(|tier| {
                tier.id.eq_ignore_ascii_case(wanted) || tier.name.eq_ignore_ascii_case(wanted)
            })
        })
}

/// Inline text.
#[derive(Debug, Clone)]
enum Inline {
    Text(String),
    Strong(String),
    Code(String),
    Link { text: String, url: String },
}

fn text(value: impl Into<String>) -> Inline {
    Inline::Text(value.into())
}

fn strong(value: impl Into<String>) -> Inline {
    Inline::Strong(value.into())
}

fn code(value: impl Into<String>) -> Inline {
    Inline::Code(value.into())
}

fn link(label: impl Into<String>, url: impl Into<String>) -> Inline {
    Inline::Link {
        text: label.into(),
        url: url.into(),
    }
}

/// A table: column headings, then rows whose first cell heads the row.
#[derive(Debug, Clone)]
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Vec<Inline>>>,
}

/// A block of the document.
#[derive(Debug, Clone)]
enum Block {
    /// Level 1 to 4.
    Heading(u8, String),
    Paragraph(Vec<Inline>),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    Table(Table),
}

/// Builds the guide's blocks.
struct Writer<'a> {
    catalog: &'a Catalog,
    manifest: &'a Manifest,
    options: &'a GuideOptions,
    needs: &'a Needs<'a>,
}

impl Writer<'_> {
    fn name(&self) -> &str {
        &self.manifest.name
    }

    fn app(&self) -> bool {
        self.options.kind == GuideKind::StripeApp
    }

    fn key_prefix(&self) -> &'static str {
        match self.options.mode {
            Mode::Test => "rk_test_",
            Mode::Live => "rk_live_",
        }
    }

    fn title(&self) -> String {
        match self.options.kind {
            GuideKind::CreateKey => format!("Create a Stripe restricted key for {}", self.name()),
            GuideKind::StripeApp => {
                format!("Get {}'s restricted key from its Stripe App", self.name())
            }
        }
    }

    fn blocks(&self, title: &str) -> Vec<Block> {
        let mut blocks = vec![Block::Heading(1, title.to_owned())];
        self.intro(&mut blocks);
        self.prerequisites(&mut blocks);
        self.mode(&mut blocks);
        self.permissions(&mut blocks);
        if !self.app() {
            self.prefilled_link(&mut blocks);
        }
        self.steps(&mut blocks);
        self.tiers(&mut blocks);
        self.alternates(&mut blocks);
        self.troubleshooting(&mut blocks);
        blocks
    }

    fn intro(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        if let Some(tier) = self.needs.tier {
            blocks.push(Block::Paragraph(vec![
                text("This guide is for the "),
                strong(&tier.name),
                text(format!(" tier of {name}.")),
            ]));
        }
        let opening = if self.app() {
            format!(
                "{name} connects to your Stripe account through a Stripe App. When you install the app, \
                 Stripe creates a restricted API key for your account holding exactly the permissions \
                 listed below. You copy that key from the app's settings page and give it to {name}."
            )
        } else {
            format!(
                "{name} connects to your Stripe account with a restricted API key: a key you create \
                 yourself in the Stripe Dashboard, which can do only what you allow it, row by row."
            )
        };
        blocks.push(Block::Paragraph(vec![text(opening)]));
        if !self.manifest.description.trim().is_empty() {
            blocks.push(Block::Paragraph(vec![text(
                self.manifest.description.trim(),
            )]));
        }
        let control = if self.app() {
            "), and you stay in control: you can delete the key in the Dashboard whenever you like."
        } else {
            "), and you stay in control: you can change the key's permissions, or delete it, in the \
             Dashboard whenever you like."
        };
        blocks.push(Block::Paragraph(vec![
            text(format!(
                "{name} only ever sees this restricted key. It does not need your secret key ("
            )),
            code("sk_…"),
            text(") or your publishable key ("),
            code("pk_…"),
            text(control),
        ]));
    }

    fn paste_place(&self) -> Vec<Inline> {
        let place = match &self.options.paste_location {
            Some(place) if !place.trim().is_empty() => place.trim().to_owned(),
            _ => format!("the Stripe settings of {}", self.name()),
        };
        match &self.options.integration_url {
            Some(url) => vec![link(place, url.trim())],
            None => vec![text(place)],
        }
    }

    fn prerequisites(&self, blocks: &mut Vec<Block>) {
        blocks.push(Block::Heading(2, String::from("Before you start")));
        let mut items = vec![vec![text(match self.options.mode {
            Mode::Test => "A Stripe account. Test mode is enough to try the connection first.",
            Mode::Live => "A Stripe account that you use for live payments.",
        })]];
        if self.app() {
            items.push(vec![text(
                "Access to the Stripe Dashboard as a user who may install apps on the account.",
            )]);
        } else {
            items.push(vec![text(
                "Access to the Stripe Dashboard as a user who may create API keys.",
            )]);
        }
        let mut paste = vec![text("Somewhere to paste the key: ")];
        paste.extend(self.paste_place());
        paste.push(text(". Keep it open in another tab."));
        items.push(paste);
        blocks.push(Block::List {
            ordered: false,
            items,
        });
    }

    fn mode(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        let url = api_keys_url(self.options.mode);
        blocks.push(Block::Heading(2, String::from("Test mode or live mode")));
        let (this, note) = match self.options.mode {
            Mode::Test => (
                "This guide is for test mode. A test key works only with test data, and no real money moves.",
                format!(
                    "Test and live keys are separate. When you are ready to go live, create a second key \
                     with the Dashboard in live mode and give {name} that one too: a test key cannot be \
                     switched to live mode."
                ),
            ),
            Mode::Live => (
                "This guide is for live mode. A live key acts on real customers and real money.",
                format!(
                    "Test and live keys are separate. A key you made in test mode stays a test key, so \
                     live mode needs a key of its own, created with the Dashboard in live mode. {name} \
                     may have a separate field for it."
                ),
            ),
        };
        blocks.push(Block::Paragraph(vec![text(this)]));
        blocks.push(Block::Paragraph(vec![text(note)]));
        if self.app() {
            blocks.push(Block::Paragraph(vec![text(format!(
                "Stripe creates the app's key in the mode you install the app in, so install it in {} mode.",
                self.options.mode
            ))]));
        } else {
            let mut page = vec![
                text(format!(
                    "Each mode has its own API keys page. The {}-mode page is ",
                    self.options.mode
                )),
                link(url.clone(), url),
                text("."),
            ];
            if self.options.mode == Mode::Test {
                page.push(text(
                    " If you work in a sandbox rather than test mode, create the key inside that sandbox: \
                     sandboxes have their own keys.",
                ));
            }
            blocks.push(Block::Paragraph(page));
        }
    }

    fn permissions(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        let count = self.needs.permissions.len();
        if self.app() {
            blocks.push(Block::Heading(
                2,
                format!("Permissions the app's key will hold ({count})"),
            ));
            blocks.push(Block::Paragraph(vec![text(format!(
                "Stripe sets these when it creates the key, so there is nothing for you to tick. They \
                 are listed so you know what {name} can do with your account. The install screen shows \
                 the same list for you to accept."
            ))]));
        } else {
            blocks.push(Block::Heading(
                2,
                format!("Permissions the key needs ({count})"),
            ));
            blocks.push(Block::Paragraph(vec![
                text(
                    "Set exactly these rows, grouped by the form's sections in the form's order. ",
                ),
                strong("Leave every other row at None"),
                text(format!(
                    ": {name} does not use them, and a smaller key does less harm if it ever leaks."
                )),
            ]));
        }
        blocks.push(Block::Paragraph(vec![
            text("Write includes Read: a row set to "),
            strong("Write"),
            text(" needs nothing more."),
        ]));
        let purpose_header = format!("What {name} uses it for");
        for (group, requirements) in self.grouped(&self.needs.permissions) {
            blocks.push(Block::Heading(3, group));
            let rows = requirements
                .iter()
                .map(|requirement| {
                    vec![
                        vec![text(self.row_name(&requirement.permission))],
                        vec![strong(requirement.permission.level.label())],
                        vec![text(requirement.purpose.trim())],
                    ]
                })
                .collect();
            blocks.push(Block::Table(Table {
                headers: vec![
                    String::from("Row"),
                    String::from("Set to"),
                    purpose_header.clone(),
                ],
                rows,
            }));
        }
        blocks.push(Block::Heading(3, String::from("Connect column")));
        if self.needs.connect.is_empty() {
            let rest = if self.app() {
                format!(". {name} does not act on your connected accounts.")
            } else {
                format!(
                    ". Leave the Connect column at None on every row: {name} does not act on your \
                     connected accounts. (The Connect column is the second setting on each row, not the \
                     Connect section of rows.)"
                )
            };
            blocks.push(Block::Paragraph(vec![
                text("Connect permissions: "),
                strong("None"),
                text(rest),
            ]));
            return;
        }
        blocks.push(Block::Paragraph(vec![text(if self.app() {
            format!(
                "{name} also acts on your connected accounts, so the key also holds these permissions for \
                 calls made on their behalf:"
            )
        } else {
            format!(
                "{name} also acts on your connected accounts. Each row of the form has a second setting, in \
                 the Connect column, for calls made on behalf of connected accounts. Set these rows there, \
                 and leave the Connect column at None everywhere else:"
            )
        })]));
        let rows = self
            .needs
            .connect
            .iter()
            .map(|requirement| {
                let section = self
                    .catalog
                    .row(&requirement.permission.row)
                    .map(|row| row.group.clone())
                    .unwrap_or_else(|| String::from("Other"));
                vec![
                    vec![text(self.row_name(&requirement.permission))],
                    vec![text(section)],
                    vec![strong(requirement.permission.level.label())],
                    vec![text(requirement.purpose.trim())],
                ]
            })
            .collect();
        blocks.push(Block::Table(Table {
            headers: vec![
                String::from("Row"),
                String::from("Section"),
                String::from("Connect column"),
                purpose_header,
            ],
            rows,
        }));
    }

    /// Requirements grouped by the form's sections, in the form's order; rows the catalogue does
    /// not know come last.
    fn grouped<'r>(&self, requirements: &'r [Requirement]) -> Vec<(String, Vec<&'r Requirement>)> {
        let mut grouped: Vec<(String, Vec<&Requirement>)> = Vec::new();
        for group in self.catalog.groups() {
            let members: Vec<&Requirement> = requirements
                .iter()
                .filter(|requirement| group.rows.contains(&requirement.permission.row))
                .collect();
            if !members.is_empty() {
                grouped.push((group.name.clone(), members));
            }
        }
        let unknown: Vec<&Requirement> = requirements
            .iter()
            .filter(|requirement| self.catalog.row(&requirement.permission.row).is_none())
            .collect();
        if !unknown.is_empty() {
            grouped.push((String::from("Other"), unknown));
        }
        grouped
    }

    fn row_name(&self, permission: &Permission) -> String {
        self.catalog
            .row(&permission.row)
            .map(|row| row.display_name.clone())
            .unwrap_or_else(|| permission.row.clone())
    }

    fn prefilled_link(&self, blocks: &mut Vec<Block>) {
        let link_data = self
            .needs
            .link(self.catalog, self.manifest, self.options.mode);
        let linked = self.needs.permissions.len() - link_data.manual.len();
        blocks.push(Block::Heading(
            2,
            String::from("The quick way: a prefilled form"),
        ));
        let total = self.needs.permissions.len();
        let how_many = if linked == total {
            format!(
                "all {} above",
                count_words(total, "permission", "permissions")
            )
        } else {
            format!("{} of the {total} permissions above", number_word(linked))
        };
        blocks.push(Block::Paragraph(vec![text(format!(
            "This link opens the “Create restricted key” form in {} mode with the name “{}” and {how_many} \
             already set:",
            self.options.mode, self.manifest.key_name,
        ))]));
        blocks.push(Block::Paragraph(vec![link(
            "Open the prefilled “Create restricted key” form",
            link_data.url,
        )]));
        if !link_data.manual.is_empty() {
            blocks.push(Block::Paragraph(vec![text(
                "The link cannot set these rows, because their permission ids are not known. Set them by hand:",
            )]));
            let items = link_data
                .manual
                .iter()
                .map(|permission| vec![text(self.catalog.form_label(permission))])
                .collect();
            blocks.push(Block::List {
                ordered: false,
                items,
            });
        }
        if !self.needs.connect.is_empty() {
            blocks.push(Block::Paragraph(vec![text(
                "The link does not set the Connect column either: set those rows by hand.",
            )]));
        }
        blocks.push(Block::Paragraph(vec![text(
            "Stripe does not document these links. Check every row against the tables above before you \
             click Create key, and if the form opens without the rows set, follow the steps below instead.",
        )]));
    }

    fn steps(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        let prefix = self.key_prefix();
        blocks.push(Block::Heading(2, String::from("Step by step")));
        let mut items: Vec<Vec<Inline>> = Vec::new();
        if self.app() {
            items.push(vec![text(format!(
                "Install the {name} app, from the Stripe App Marketplace or from the install link {name} \
                 gives you."
            ))]);
            items.push(vec![text(format!(
                "Choose the Stripe account to install it on, in {} mode. Check that the permissions the \
                 app asks for match the table above, then accept them.",
                self.options.mode
            ))]);
            items.push(vec![text(
                "After the install, Stripe takes you to the app's settings page. You can find it again \
                 later under Settings → Installed apps.",
            )]);
            items.push(vec![
                text("On the settings page, click "),
                strong("View API keys"),
                text("."),
            ]);
        } else {
            let url = api_keys_url(self.options.mode);
            items.push(vec![
                text(format!(
                    "Open the API keys page in {} mode: ",
                    self.options.mode
                )),
                link(url.clone(), url),
                text(". In the Dashboard it is under "),
                strong("Developers"),
                text(" → "),
                strong("API keys"),
                text("."),
            ]);
            items.push(vec![
                text("Click "),
                strong("Create restricted key"),
                text("."),
            ]);
            items.push(vec![
                text("Stripe asks how you will use the key. Choose the option for "),
                strong("building your own integration"),
                text(
                    " (its wording changes from time to time), then click Continue. This path lets you set \
                     each permission yourself.",
                ),
            ]);
            items.push(vec![
                text("If Stripe offers permission templates, skip them and click "),
                strong("Choose your own"),
                text(format!(
                    ": a template sets rows of its own choosing, while the tables above list exactly what \
                     {name} needs."
                )),
            ]);
            items.push(vec![
                text("Name the key so you can recognise it later, for example "),
                strong(&self.manifest.key_name),
                text("."),
            ]);
            items.push(vec![text(
                "Set each row from the tables above to the level shown. Every row starts at None; leave the \
                 others there.",
            )]);
            if self.needs.connect.is_empty() {
                items.push(vec![text("Leave the Connect column at None.")]);
            } else {
                items.push(vec![text(
                    "In the Connect column, set the rows from the Connect column table.",
                )]);
            }
            items.push(vec![
                text("Click "),
                strong("Create key"),
                text(". Stripe may ask you to confirm with a code it sends you."),
            ]);
        }
        let copy = match (self.options.mode, self.app()) {
            (Mode::Live, false) => {
                ". Stripe shows a live key in full only this once: if you lose it, you \
                                    have to create a new key. Keep it out of email, chat and source control."
            }
            (Mode::Test, false) => {
                ". You can reveal a test key again later, but copying it now saves a \
                                    trip. Keep it out of email, chat and source control."
            }
            (_, true) => ". Keep it out of email, chat and source control.",
        };
        items.push(vec![
            text("Copy the key now. It starts with "),
            code(format!("{prefix}…")),
            text(copy),
        ]);
        let mut paste = vec![text("Paste the key into ")];
        paste.extend(self.paste_place());
        paste.push(text(format!(
            " and save. {name} can then connect to your account."
        )));
        items.push(paste);
        blocks.push(Block::List {
            ordered: true,
            items,
        });
    }

    fn tiers(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        if self.manifest.tiers.is_empty() {
            return;
        }
        blocks.push(Block::Heading(2, String::from("Other tiers")));
        let opening = match self.needs.tier {
            Some(tier) => format!(
                "{name} comes in several tiers, and they need different permissions. This guide is for {}.",
                tier.name
            ),
            None => format!(
                "{name} comes in several tiers, and they need different permissions. This guide covers \
                 only what every tier needs."
            ),
        };
        blocks.push(Block::Paragraph(vec![text(opening)]));
        let items = self
            .manifest
            .tiers
            .iter()
            .map(|tier| {
                let mut item = vec![strong(&tier.name)];
                if self.needs.tier.is_some_and(|current| current.id == tier.id) {
                    item.push(text(" (this guide)"));
                }
                let parent = tier.extends.as_deref().and_then(|parent| {
                    self.manifest
                        .tiers
                        .iter()
                        .find(|candidate| candidate.id == parent)
                });
                let added = count_words(
                    tier.permissions.len() + tier.connect_permissions.len(),
                    "permission",
                    "permissions",
                );
                let adds = tier.permissions.len() + tier.connect_permissions.len() > 0;
                let base =
                    self.manifest.permissions.len() + self.manifest.connect_permissions.len();
                item.push(text(match (parent, adds) {
                    (Some(parent), true) => {
                        format!(": everything {} needs, plus {added}.", parent.name)
                    }
                    (Some(parent), false) => format!(": the same permissions as {}.", parent.name),
                    (None, true) if base > 0 => {
                        format!(": the permissions every tier needs, plus {added}.")
                    }
                    (None, _) if base > 0 => String::from(": the permissions every tier needs."),
                    (None, _) => format!(": {added}."),
                }));
                item
            })
            .collect();
        blocks.push(Block::List {
            ordered: false,
            items,
        });
        blocks.push(Block::Paragraph(vec![text(
            "If you change tier later, edit the key and set the rows the new tier needs; the key's value \
             stays the same, so there is nothing to paste again.",
        )]));
    }

    fn alternates(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        if self.manifest.alternates.is_empty() {
            return;
        }
        blocks.push(Block::Heading(2, String::from("Other permission sets")));
        blocks.push(Block::Paragraph(vec![text(format!(
            "{name} can also work with a different set of permissions. A variant replaces the tables \
             above rather than adding to them:"
        ))]));
        let items = self
            .manifest
            .alternates
            .iter()
            .map(|alternate| {
                let mut permissions: Vec<Permission> = alternate
                    .permissions
                    .iter()
                    .map(|requirement| requirement.permission.clone())
                    .collect();
                self.catalog.sort_as_form(&mut permissions);
                let labels: Vec<String> = permissions
                    .iter()
                    .map(|permission| self.catalog.form_label(permission))
                    .collect();
                let mut item = vec![strong(&alternate.name), text(": ")];
                let description = alternate.description.trim();
                if !description.is_empty() {
                    item.push(text(format!("{description} ")));
                }
                item.push(text(format!("Rows: {}.", labels.join("; "))));
                item
            })
            .collect();
        blocks.push(Block::List {
            ordered: false,
            items,
        });
    }

    fn troubleshooting(&self, blocks: &mut Vec<Block>) {
        let name = self.name();
        let prefix = self.key_prefix();
        blocks.push(Block::Heading(2, String::from("Troubleshooting")));

        blocks.push(Block::Heading(
            3,
            String::from("Missing permissions (STRIPE_PERMISSIONS_MISSING)"),
        ));
        if self.app() {
            blocks.push(Block::Paragraph(vec![text(format!(
                "{name} reports that the key lacks permissions it needs (Stripe's own message says the key \
                 “does not have the required permissions”). The app's permissions are set by the app, not \
                 by you, so contact {name}: the app may need an update."
            ))]));
        } else {
            blocks.push(Block::Paragraph(vec![
                text(format!(
                    "The key lacks one or more rows from the tables above (Stripe's own message says it \
                     “does not have the required permissions”). {name} names the missing rows. Open the key \
                     in the Dashboard ("
                )),
                strong("Developers"),
                text(" → "),
                strong("API keys"),
                text(" → the key's "),
                strong("⋯"),
                text(" menu → "),
                strong("Edit"),
                text(
                    "), set the rows listed, save, and connect again. Editing keeps the key's value, so \
                     there is nothing to paste again.",
                ),
            ]));
        }
        if !self.needs.connect.is_empty() && !self.app() {
            blocks.push(Block::Heading(
                3,
                String::from("“… does not have any Connect permissions”"),
            ));
            blocks.push(Block::Paragraph(vec![text(
                "The Connect column of the key is not set. Edit the key as above and set the rows from the \
                 Connect column table.",
            )]));
        }

        blocks.push(Block::Heading(
            3,
            String::from("The key was revoked or deleted"),
        ));
        blocks.push(Block::Paragraph(vec![text(if self.app() {
            format!(
                "A deleted key stops working at once. Open the app's settings page and click View API keys \
                 for a current key; if there is none, reinstall the app. Then paste the new key into {name}."
            )
        } else {
            format!(
                "A deleted key stops working at once and cannot be restored. Create a new key with the same \
                 permissions (the prefilled link above does it fastest) and paste it into {name}."
            )
        })]));

        blocks.push(Block::Heading(3, String::from("The key has expired")));
        blocks.push(Block::Paragraph(vec![
            text(
                "Rolling a key gives it a new value, and the old value stops working when the expiry chosen \
                 during the roll arrives. From then on Stripe answers ",
            ),
            code("api_key_expired"),
            text(if self.app() {
                format!(". Get a current key from the app's settings page and paste it into {name}.")
            } else {
                format!(". Paste the key's new value into {name}, or create a new key if nobody kept it.")
            }),
        ]));

        blocks.push(Block::Heading(
            3,
            String::from("I pasted a key starting with pk_"),
        ));
        blocks.push(Block::Paragraph(vec![
            text(format!(
                "That is a publishable key, meant for web pages and mobile apps. {name} does not accept it. \
                 Paste the restricted key instead: it starts with "
            )),
            code(format!("{prefix}…")),
            text("."),
        ]));

        blocks.push(Block::Heading(
            3,
            String::from("I pasted a key starting with sk_"),
        ));
        let secret = if self.manifest.accept_secret_keys {
            format!(
                "That is a secret key, with full access to your account. {name} accepts it, but a \
                 restricted key holding only the rows above is safer: if it leaks, it can do far less."
            )
        } else {
            let instead = if self.app() {
                "Paste the key from the app's settings page instead"
            } else {
                "Create the restricted key described above instead"
            };
            format!(
                "That is a secret key, with full access to your account, and {name} refuses it. {instead}, \
                 and keep your secret key to yourself."
            )
        };
        blocks.push(Block::Paragraph(vec![text(secret)]));

        blocks.push(Block::Heading(
            3,
            String::from("The key is for the other mode"),
        ));
        blocks.push(Block::Paragraph(vec![
            text("A key starting with "),
            code("rk_test_"),
            text(" works only in test mode, and one starting with "),
            code("rk_live_"),
            text(if self.app() {
                " only in live mode. Paste each key where its mode belongs, or install the app in the right mode."
            } else {
                " only in live mode. Paste each key where its mode belongs, or create one in the right mode."
            }),
        ]));

        if !self.app() {
            blocks.push(Block::Heading(3, String::from("I cannot find a row")));
            let mut renamed: Vec<Inline> = vec![text(
                "Stripe renames rows and moves them between sections from time to time, so search the form \
                 for the row's name.",
            )];
            let aliases: Vec<String> = self
                .needs
                .permissions
                .iter()
                .chain(self.needs.connect.iter())
                .filter_map(|requirement| self.catalog.row(&requirement.permission.row))
                .filter(|row| !row.aliases.is_empty())
                .filter_map(|row| {
                    let mut others: Vec<String> = Vec::new();
                    for alias in &row.aliases {
                        let lower = alias.to_lowercase();
                        if lower != row.display_name.to_lowercase()
                            && !others
                                .iter()
                                .any(|other| other.to_lowercase() == format!("“{lower}”"))
                        {
                            others.push(format!("“{alias}”"));
                        }
                    }
                    (!others.is_empty()).then(|| {
                        format!(
                            "{} may also appear as {}",
                            row.display_name,
                            others.join(" or ")
                        )
                    })
                })
                .fold(Vec::new(), |mut seen, line| {
                    if !seen.contains(&line) {
                        seen.push(line);
                    }
                    seen
                });
            if !aliases.is_empty() {
                renamed.push(text(" Names to look for:"));
                blocks.push(Block::Paragraph(renamed));
                blocks.push(Block::List {
                    ordered: false,
                    items: aliases
                        .into_iter()
                        .map(|line| vec![text(format!("{line}."))])
                        .collect(),
                });
            } else {
                blocks.push(Block::Paragraph(renamed));
            }
        }
    }
}

fn count_words(count: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        number_word(count),
        if count == 1 { one } else { many }
    )
}

/// Small numbers in words, as prose spells them; larger ones in digits.
fn number_word(count: usize) -> String {
    String::from(match count {
        0 => "no",
        1 => "one",
        2 => "two",
        3 => "three",
        4 => "four",
        5 => "five",
        6 => "six",
        7 => "seven",
        8 => "eight",
        9 => "nine",
        10 => "ten",
        _ => return count.to_string(),
    })
}

/// Markdown output (GitHub-flavoured).
mod markdown {
    use super::{Block, Inline, Table};

    pub(super) fn document(blocks: &[Block]) -> String {
        let mut out = String::new();
        for block in blocks {
            match block {
                Block::Heading(level, heading) => {
                    out.push_str(&"#".repeat(usize::from(*level)));
                    out.push(' ');
                    out.push_str(&escape(heading));
                    out.push_str("\n\n");
                }
                Block::Paragraph(inlines) => {
                    out.push_str(&inline(inlines));
                    out.push_str("\n\n");
                }
                Block::List { ordered, items } => {
                    for (index, item) in items.iter().enumerate() {
                        if *ordered {
                            out.push_str(&format!("{}. ", index + 1));
                        } else {
                            out.push_str("- ");
                        }
                        out.push_str(&inline(item));
                        out.push('\n');
                    }
                    out.push('\n');
                }
                Block::Table(table) => table_block(&mut out, table),
            }
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    fn table_block(out: &mut String, table: &Table) {
        let headers: Vec<String> = table.headers.iter().map(|header| escape(header)).collect();
        out.push_str(&format!("| {} |\n", headers.join(" | ")));
        out.push_str(&format!("|{}\n", " --- |".repeat(headers.len())));
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|cell| inline(cell)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out.push('\n');
    }

    fn inline(inlines: &[Inline]) -> String {
        let mut out = String::new();
        for piece in inlines {
            match piece {
                Inline::Text(value) => out.push_str(&escape(value)),
                Inline::Strong(value) => {
                    out.push_str("**");
                    out.push_str(&escape(value));
                    out.push_str("**");
                }
                Inline::Code(value) => {
                    out.push('`');
                    out.push_str(&value.replace('`', "'"));
                    out.push('`');
                }
                Inline::Link { text, url } => {
                    out.push('[');
                    out.push_str(&escape(text));
                    out.push_str("](");
                    out.push_str(&destination(url));
                    out.push(')');
                }
            }
        }
        // A line break inside a table cell or list item would end it.
        out.replace(['\r', '\n'], " ")
    }

    /// Escapes text so Markdown shows it literally: no emphasis, links, raw HTML or table breaks.
    pub(super) fn escape(value: &str) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::with_capacity(value.len());
        for (index, &character) in chars.iter().enumerate() {
            let after_word = index
                .checked_sub(1)
                .and_then(|position| chars.get(position))
                .is_some_and(|previous| previous.is_alphanumeric());
            let needs_escape = match character {
                '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' => true,
                // An underscore right after a letter or digit can never open emphasis, and with
                // every opener escaped nothing can close one, so snake_case stays readable.
                '_' => !after_word,
                '#' | '+' | '-' | '=' => index == 0,
                _ => false,
            };
            if needs_escape {
                out.push('\\');
            }
            out.push(character);
        }
        out
    }

    /// A link destination that cannot end the link early.
    fn destination(url: &str) -> String {
        let mut out = String::with_capacity(url.len());
        for character in url.chars() {
            match character {
                ' ' => out.push_str("%20"),
                '(' => out.push_str("%28"),
                ')' => out.push_str("%29"),
                '<' => out.push_str("%3C"),
                '>' => out.push_str("%3E"),
                '\\' => out.push_str("%5C"),
                '\r' | '\n' => {}
                other => out.push(other),
            }
        }
        out
    }
}

/// HTML output: one standalone document.
mod html {
    use super::{Block, Inline, Table};

    const STYLE: &str = "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:50rem;\
margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
table{border-collapse:collapse;margin:0 0 1rem}\
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}\
thead th{background:#f3f3f3}\
code{background:#f3f3f3;padding:0 .2rem}";

    pub(super) fn document(title: &str, blocks: &[Block]) -> String {
        let mut out = String::new();
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str(&format!("<title>{}</title>\n", escape(title)));
        out.push_str(&format!("<style>{STYLE}</style>\n"));
        out.push_str("</head>\n<body>\n<main>\n");
        for block in blocks {
            match block {
                Block::Heading(level, heading) => {
                    out.push_str(&format!("<h{level}>{}</h{level}>\n", escape(heading)));
                }
                Block::Paragraph(inlines) => {
                    out.push_str(&format!("<p>{}</p>\n", inline(inlines)));
                }
                Block::List { ordered, items } => {
                    let tag = if *ordered { "ol" } else { "ul" };
                    out.push_str(&format!("<{tag}>\n"));
                    for item in items {
                        out.push_str(&format!("<li>{}</li>\n", inline(item)));
                    }
                    out.push_str(&format!("</{tag}>\n"));
                }
                Block::Table(table) => table_block(&mut out, table),
            }
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }

    fn table_block(out: &mut String, table: &Table) {
        out.push_str("<table>\n<thead>\n<tr>");
        for header in &table.headers {
            out.push_str(&format!("<th scope=\"col\">{}</th>", escape(header)));
        }
        out.push_str("</tr>\n</thead>\n<tbody>\n");
        for row in &table.rows {
            out.push_str("<tr>");
            for (index, cell) in row.iter().enumerate() {
                if index == 0 {
                    out.push_str(&format!("<th scope=\"row\">{}</th>", inline(cell)));
                } else {
                    out.push_str(&format!("<td>{}</td>", inline(cell)));
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }

    fn inline(inlines: &[Inline]) -> String {
        let mut out = String::new();
        for piece in inlines {
            match piece {
                Inline::Text(value) => out.push_str(&escape(value)),
                Inline::Strong(value) => {
                    out.push_str(&format!("<strong>{}</strong>", escape(value)))
                }
                Inline::Code(value) => out.push_str(&format!("<code>{}</code>", escape(value))),
                Inline::Link { text, url } => {
                    out.push_str(&format!("<a href=\"{}\">{}</a>", escape(url), escape(text)));
                }
            }
        }
        out
    }

    /// Escapes text for HTML element content and double- or single-quoted attribute values.
    pub(super) fn escape(value: &str) -> String {
        let mut out = String::with_capacity(value.len());
        for character in value.chars() {
            match character {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                other => out.push(other),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escape_covers_markup_and_quotes() {
        assert_eq!(
            html::escape(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn markdown_escape_keeps_snake_case_and_neutralises_markup() {
        assert_eq!(markdown::escape("rk_test_key"), "rk_test_key");
        assert_eq!(
            markdown::escape("_x_ *y* [z](u) <b> a|b"),
            r"\_x_ \*y\* \[z\](u) \<b\> a\|b"
        );
        assert_eq!(markdown::escape("pk_… and a _b"), r"pk_… and a \_b");
        assert_eq!(markdown::escape("# not a heading"), r"\# not a heading");
    }

    #[test]
    fn formats_and_kinds_parse_from_their_names() {
        for format in [GuideFormat::Markdown, GuideFormat::Html] {
            assert_eq!(format.as_str().parse::<GuideFormat>(), Ok(format));
        }
        for kind in [GuideKind::CreateKey, GuideKind::StripeApp] {
            assert_eq!(kind.as_str().parse::<GuideKind>(), Ok(kind));
        }
        assert!("pdf".parse::<GuideFormat>().is_err());
        assert!("oauth".parse::<GuideKind>().is_err());
    }

    #[test]
    fn small_counts_are_spelled_out() {
        assert_eq!(
            count_words(1, "permission", "permissions"),
            "one permission"
        );
        assert_eq!(
            count_words(8, "permission", "permissions"),
            "eight permissions"
        );
        assert_eq!(
            count_words(12, "permission", "permissions"),
            "12 permissions"
        );
    }
}
