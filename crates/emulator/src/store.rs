//! The object store: every stored Stripe object, by account, mode and object type, in creation
//! order, with the ids of deleted objects remembered (Stripe still answers for them).
//!
//! The store knows nothing of Stripe's rules; resources (`resources/`) decide what to store and
//! the helpers in `resources/mod.rs` turn lookups into Stripe's answers.

use std::collections::{HashMap, HashSet};

use rakguard_catalog::key::Mode;
use serde_json::Value;

/// The objects of one type in one account and mode.
#[derive(Debug, Default, Clone)]
struct Objects {
    /// Ids in creation order.
    order: Vec<String>,
    objects: HashMap<String, Value>,
    deleted: HashSet<String>,
}

/// Every stored object.
#[derive(Debug, Default, Clone)]
pub struct Store {
    scopes: HashMap<(String, Mode, &'static str), Objects>,
}

/// Where an id was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// In the request's account and mode.
    Here(Value),
    /// Deleted from the request's account and mode.
    Deleted,
    /// Only in the other mode.
    OtherMode(Mode),
    /// Nowhere.
    Missing,
}

impl Store {
    fn scope(&self, account: &str, mode: Mode, kind: &'static str) -> Option<&Objects> {
        self.scopes.get(&(account.to_owned(), mode, kind))
    }

    fn scope_mut(&mut self, account: &str, mode: Mode, kind: &'static str) -> &mut Objects {
        self.scopes
            .entry((account.to_owned(), mode, kind))
            .or_default()
    }

    /// The object with this id, or where else it is.
    pub fn find(&self, account: &str, mode: Mode, kind: &'static str, id: &str) -> Found {
        let here = self.scope(account, mode, kind);
        if let Some(object) = here.and_then(|objects| objects.objects.get(id)) {
            return Found::Here(object.clone());
        }
        if here.is_some_and(|objects| objects.deleted.contains(id)) {
            return Found::Deleted;
        }
        let other = other_mode(mode);
        let elsewhere = self.scope(account, other, kind).is_some_and(|objects| {
            objects.objects.contains_key(id) || objects.deleted.contains(id)
        });
        if elsewhere {
            Found::OtherMode(other)
        } else {
            Found::Missing
        }
    }

    /// Stores a new object (its `id` field names it).
    pub fn insert(&mut self, account: &str, mode: Mode, kind: &'static str, object: Value) {
        let Some(id) = object.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        let objects = self.scope_mut(account, mode, kind);
        if objects.objects.insert(id.clone(), object).is_none() {
            objects.order.push(id);
        }
    }

    /// Replaces a stored object; returns false when it is not stored.
    pub fn replace(
        &mut self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        object: Value,
    ) -> bool {
        let Some(id) = object.get("id").and_then(Value::as_str).map(str::to_owned) else {
            return false;
        };
        match self
            .scopes
            .get_mut(&(account.to_owned(), mode, kind))
            .and_then(|objects| objects.objects.get_mut(&id))
        {
            Some(stored) => {
                *stored = object;
                true
            }
            None => false,
        }
    }

    /// Removes an object, remembering its id as deleted; returns it.
    pub fn delete(
        &mut self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        id: &str,
    ) -> Option<Value> {
        let objects = self.scopes.get_mut(&(account.to_owned(), mode, kind))?;
        let removed = objects.objects.remove(id)?;
        objects.order.retain(|known| known != id);
        objects.deleted.insert(id.to_owned());
        Some(removed)
    }

    /// The objects of a type, newest first.
    pub fn newest_first(&self, account: &str, mode: Mode, kind: &'static str) -> Vec<&Value> {
        self.scope(account, mode, kind)
            .map(|objects| {
                objects
                    .order
                    .iter()
                    .rev()
                    .filter_map(|id| objects.objects.get(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many objects of a type are stored (all accounts and modes).
    pub fn count(&self, kind: &str) -> usize {
        self.scopes
            .iter()
            .filter(|((_, _, stored), _)| *stored == kind)
            .map(|(_, objects)| objects.objects.len())
            .sum()
    }

    /// How many objects of each type are stored (all accounts and modes).
    pub fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for ((_, _, kind), objects) in &self.scopes {
            *counts.entry(*kind).or_default() += objects.objects.len();
        }
        counts
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.scopes.clear();
    }
}

/// The other mode.
pub fn other_mode(mode: Mode) -> Mode {
    match mode {
        Mode::Test => Mode::Live,
        Mode::Live => Mode::Test,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn objects_are_scoped_by_account_mode_and_type() {
        let mut store = Store::default();
        store.insert("acct_1", Mode::Test, "customer", json!({"id": "cus_1"}));
        assert!(matches!(
            store.find("acct_1", Mode::Test, "customer", "cus_1"),
            Found::Here(_)
        ));
        assert_eq!(
            store.find("acct_1", Mode::Live, "customer", "cus_1"),
            Found::OtherMode(Mode::Test)
        );
        assert_eq!(
            store.find("acct_2", Mode::Test, "customer", "cus_1"),
            Found::Missing
        );
        assert_eq!(
            store.find("acct_1", Mode::Test, "product", "cus_1"),
            Found::Missing
        );
        assert!(
            store
                .delete("acct_1", Mode::Test, "customer", "cus_1")
                .is_some()
        );
        assert_eq!(
            store.find("acct_1", Mode::Test, "customer", "cus_1"),
            Found::Deleted
        );
        assert!(
            store
                .newest_first("acct_1", Mode::Test, "customer")
                .is_empty()
        );
    }

    #[test]
    fn lists_are_newest_first_and_replace_keeps_the_order() {
        let mut store = Store::default();
        for id in ["a", "b", "c"] {
            store.insert("acct_1", Mode::Live, "coupon", json!({"id": id}));
        }
        assert!(store.replace("acct_1", Mode::Live, "coupon", json!({"id": "a", "x": 1})));
        let ids: Vec<&str> = store
            .newest_first("acct_1", Mode::Live, "coupon")
            .iter()
            .filter_map(|object| object["id"].as_str())
            .collect();
        assert_eq!(ids, ["c", "b", "a"]);
        assert_eq!(store.count("coupon"), 3);
    }
}
