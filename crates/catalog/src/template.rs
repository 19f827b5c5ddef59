//! The Dashboard's permission templates ("One-time payments", ...), as far as the facts go.

use serde::Serialize;

use crate::permission::Permission;

/// One template offered by the "Choose a permission template" dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Stable id, snake_case.
    pub id: String,
    /// The name the Dashboard shows.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether the rows it sets are known.
    pub known: bool,
    /// How sure the catalogue is of `permissions`: none, low, medium, high.
    pub confidence: String,
    /// Where the contents come from.
    pub source: String,
    /// The permissions it sets (empty when unknown).
    pub permissions: Vec<Permission>,
}
