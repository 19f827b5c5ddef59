//! The object store: every stored Stripe object, by account, mode and object type, in creation
//! order, with the ids of deleted objects remembered (Stripe still answers for them).
//!
//! Objects are kept as compact JSON text and parsed when read: a `serde_json::Value` tree costs
//! several times the memory of its text, and the emulator must hold 100,000 customers (and their
//! events) in well under 300 MB. Lists walk ids newest first and parse only what they return.
//!
//! Texts are shared ([`Text`]): an object's text is also the `data.object` of the event about
//! the change that made it, and the body of the answer to that request, without a copy. An
//! event is stored as its own text around the object's ([`Store::insert_framed`]).
//!
//! The store knows nothing of Stripe's rules; resources (`resources/`) decide what to store and
//! the helpers in `resources/mod.rs` turn lookups into Stripe's answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rakguard_catalog::key::Mode;
use serde_json::Value;

/// The objects of one type in one account and mode.
#[derive(Debug, Default, Clone)]
struct Objects {
    /// Ids in creation order.
    order: Order,
    // B-trees rather than hash maps: they grow a node at a time, where a hash map rehashes
    // everything at once, a pause of milliseconds under the lock at 100,000+ objects.
    objects: BTreeMap<Key, Stored>,
    deleted: BTreeSet<String>,
}

/// Ids in creation order, in chunks of fixed capacity: a push never moves the ids already held.
/// (One `Vec` doubles as it grows, copying every id and faulting in twice the memory under the
/// state's lock: a pause of 10 to 20 ms at 131,072 customers.)
#[derive(Debug, Default, Clone)]
struct Order {
    chunks: Vec<Vec<String>>,
}

/// Ids per [`Order`] chunk.
const ORDER_CHUNK: usize = 4096;

impl Order {
    fn push(&mut self, id: String) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < ORDER_CHUNK => chunk.push(id),
            _ => {
                let mut chunk = Vec::with_capacity(ORDER_CHUNK);
                chunk.push(id);
                self.chunks.push(chunk);
            }
        }
    }

    /// Removes the newest occurrence of `id` (an emptied chunk goes too).
    fn remove(&mut self, id: &str) {
        for index in (0..self.chunks.len()).rev() {
            let chunk = &mut self.chunks[index];
            if let Some(position) = chunk.iter().rposition(|known| known == id) {
                chunk.remove(position);
                if chunk.is_empty() {
                    self.chunks.remove(index);
                }
                return;
            }
        }
    }

    fn newest_first(&self) -> impl Iterator<Item = &str> {
        self.chunks
            .iter()
            .rev()
            .flat_map(|chunk| chunk.iter().rev().map(String::as_str))
    }
}

/// Compact JSON text, shared between the store, events and answers.
pub type Text = Arc<str>;

/// One stored object's text.
#[derive(Debug, Clone)]
enum Stored {
    /// The whole text.
    Whole(Text),
    /// `frame[..at]`, then another object's text, then `frame[at..]`: an event around the object
    /// it is about.
    Framed {
        frame: Box<str>,
        at: u32,
        object: Text,
    },
}

impl Stored {
    /// The text, shared when it is stored whole and assembled when it is framed (with the object
    /// at the frame's end if `at` is not a character boundary of it).
    fn text(&self) -> Text {
        match self {
            Stored::Whole(text) => text.clone(),
            Stored::Framed { frame, at, object } => {
                let (head, tail) = frame.split_at_checked(*at as usize).unwrap_or((frame, ""));
                let mut text = String::with_capacity(frame.len() + object.len());
                text.push_str(head);
                text.push_str(object);
                text.push_str(tail);
                Text::from(text)
            }
        }
    }

    fn parse(&self) -> Value {
        match self {
            Stored::Whole(text) => parse(text),
            Stored::Framed { .. } => parse(&self.text()),
        }
    }
}

/// An object id as the B-tree compares it: its first 32 bytes packed into four integers (so
/// most comparisons are one integer compare, where string keys cost a `memcmp` call per node on
/// ids that all share a prefix such as `cus_`), its length, and the bytes beyond 32 if any. The
/// order is not the ids' alphabetical order (nothing needs that; lists follow creation order) but
/// it is total and two keys are equal exactly when their ids are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    head: [u64; 4],
    len: usize,
    rest: Option<Box<[u8]>>,
}

impl Key {
    fn new(id: &str) -> Key {
        let bytes = id.as_bytes();
        let mut head = [0u64; 4];
        for (word, chunk) in head.iter_mut().zip(bytes.chunks(8)) {
            let mut buffer = [0u8; 8];
            buffer[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_be_bytes(buffer);
        }
        Key {
            head,
            len: bytes.len(),
            rest: bytes
                .get(32..)
                .filter(|rest| !rest.is_empty())
                .map(Box::from),
        }
    }
}

fn parse(text: &str) -> Value {
    // The store only ever holds text it serialised itself.
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// An object as the store keeps it: compact JSON text. Callers serialise before taking the
/// state's lock, so the locked section is only the map insert.
pub fn compact(object: &Value) -> Text {
    // Most stored objects are a few hundred bytes to a few kilobytes; starting at 1 KiB saves
    // the string most of its regrowths (each a copy of what it holds so far).
    let mut text = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut text, object).is_err() {
        return Text::from("null");
    }
    // serde_json writes UTF-8 only.
    String::from_utf8(text).map_or_else(|_| Text::from("null"), Text::from)
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
        if let Some(stored) = here.and_then(|objects| objects.objects.get(&Key::new(id))) {
            return Found::Here(stored.parse());
        }
        if here.is_some_and(|objects| objects.deleted.contains(id)) {
            return Found::Deleted;
        }
        let other = other_mode(mode);
        let elsewhere = self.scope(account, other, kind).is_some_and(|objects| {
            objects.objects.contains_key(&Key::new(id)) || objects.deleted.contains(id)
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
        let text = compact(&object);
        self.insert_text(account, mode, kind, id, text);
    }

    /// Stores an object already serialised with [`compact`] under `id`.
    pub fn insert_text(
        &mut self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        id: String,
        text: Text,
    ) {
        self.put(account, mode, kind, id, Stored::Whole(text));
    }

    /// Stores under `id` the text `frame[..at]`, then `object`, then `frame[at..]`, sharing
    /// `object` (an event around the object it is about).
    #[allow(clippy::too_many_arguments)]
    pub fn insert_framed(
        &mut self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        id: String,
        frame: Box<str>,
        at: usize,
        object: Text,
    ) {
        // An `at` that is not a place in the frame (callers pass one) puts the object at its end
        // (see `Stored::text`).
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        self.put(
            account,
            mode,
            kind,
            id,
            Stored::Framed { frame, at, object },
        );
    }

    fn put(&mut self, account: &str, mode: Mode, kind: &'static str, id: String, stored: Stored) {
        let objects = self.scope_mut(account, mode, kind);
        if objects.objects.insert(Key::new(&id), stored).is_none() {
            objects.order.push(id);
        }
    }

    /// Replaces a stored object with text serialised by [`compact`]; false when it is not stored.
    pub fn replace_text(
        &mut self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        id: &str,
        text: Text,
    ) -> bool {
        match self
            .scopes
            .get_mut(&(account.to_owned(), mode, kind))
            .and_then(|objects| objects.objects.get_mut(&Key::new(id)))
        {
            Some(stored) => {
                *stored = Stored::Whole(text);
                true
            }
            None => false,
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
            .and_then(|objects| objects.objects.get_mut(&Key::new(&id)))
        {
            Some(stored) => {
                *stored = Stored::Whole(compact(&object));
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
        let removed = objects.objects.remove(&Key::new(id))?;
        objects.order.remove(id);
        objects.deleted.insert(id.to_owned());
        Some(removed.parse())
    }

    /// The objects of a type, newest first, all parsed (for small sets; lists use
    /// [`Store::ids_newest_first`] and [`Store::get`]).
    pub fn newest_first(&self, account: &str, mode: Mode, kind: &'static str) -> Vec<Value> {
        self.ids_newest_first(account, mode, kind)
            .filter_map(|id| self.get(account, mode, kind, id))
            .collect()
    }

    /// The ids of a type, newest first, without parsing anything.
    pub fn ids_newest_first<'s>(
        &'s self,
        account: &str,
        mode: Mode,
        kind: &'static str,
    ) -> impl Iterator<Item = &'s str> + 's {
        self.scope(account, mode, kind)
            .into_iter()
            .flat_map(|objects| objects.order.newest_first())
    }

    /// One stored object as its JSON text.
    pub fn get_text(
        &self,
        account: &str,
        mode: Mode,
        kind: &'static str,
        id: &str,
    ) -> Option<Text> {
        self.scope(account, mode, kind)?
            .objects
            .get(&Key::new(id))
            .map(Stored::text)
    }

    /// One stored object, parsed.
    pub fn get(&self, account: &str, mode: Mode, kind: &'static str, id: &str) -> Option<Value> {
        self.scope(account, mode, kind)?
            .objects
            .get(&Key::new(id))
            .map(Stored::parse)
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
mod key_tests {
    use super::Key;

    #[test]
    fn keys_are_equal_exactly_when_ids_are() {
        let ids = [
            "",
            "a",
            "a\u{0}",
            "cus_1",
            "cus_10",
            "cus_2",
            "évt_x",
            "cs_test_a1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "cs_test_a1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0",
        ];
        for a in ids {
            for b in ids {
                assert_eq!(Key::new(a) == Key::new(b), a == b, "{a:?} {b:?}");
            }
        }
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
    fn framed_texts_read_as_the_frame_around_the_shared_object() {
        let mut store = Store::default();
        let object = compact(&json!({"id": "cus_1", "email": "é@x"}));
        let frame = "{\"id\":\"evt_1\",\"data\":{\"object\":}}";
        let at = frame.find(":}").unwrap() + 1;
        store.insert_framed(
            "acct_1",
            Mode::Test,
            "event",
            "evt_1".into(),
            frame.into(),
            at,
            Text::clone(&object),
        );
        let event = store.get("acct_1", Mode::Test, "event", "evt_1").unwrap();
        assert_eq!(event["data"]["object"]["email"], "é@x");
        assert_eq!(
            store.ids_newest_first("acct_1", Mode::Test, "event").next(),
            Some("evt_1")
        );
        // Not a character boundary: the object goes at the frame's end rather than splitting it.
        store.insert_framed(
            "acct_1",
            Mode::Test,
            "event",
            "evt_2".into(),
            "[é".into(),
            2,
            Text::from("1]"),
        );
        assert_eq!(
            store
                .get_text("acct_1", Mode::Test, "event", "evt_2")
                .as_deref(),
            Some("[é1]")
        );
    }

    #[test]
    fn the_order_spans_chunks_and_forgets_deleted_ids() {
        let mut store = Store::default();
        let count = 2 * ORDER_CHUNK + 5;
        for n in 0..count {
            store.insert(
                "acct_1",
                Mode::Test,
                "event",
                json!({"id": format!("evt_{n}")}),
            );
        }
        let ids: Vec<&str> = store
            .ids_newest_first("acct_1", Mode::Test, "event")
            .collect();
        assert_eq!(ids.len(), count);
        assert_eq!(ids[0], format!("evt_{}", count - 1));
        assert_eq!(ids[count - 1], "evt_0");
        assert!(ids.windows(2).all(|pair| {
            let number = |id: &str| id[4..].parse::<usize>().unwrap();
            number(pair[0]) == number(pair[1]) + 1
        }));
        // Deleting from the middle of a chunk, and every id of the last (short) chunk.
        store.delete("acct_1", Mode::Test, "event", "evt_100");
        for n in 2 * ORDER_CHUNK..count {
            store.delete("acct_1", Mode::Test, "event", &format!("evt_{n}"));
        }
        let ids: Vec<&str> = store
            .ids_newest_first("acct_1", Mode::Test, "event")
            .collect();
        assert_eq!(ids.len(), 2 * ORDER_CHUNK - 1);
        assert_eq!(ids[0], format!("evt_{}", 2 * ORDER_CHUNK - 1));
        assert!(!ids.contains(&"evt_100"));
        store.insert("acct_1", Mode::Test, "event", json!({"id": "evt_new"}));
        assert_eq!(
            store.ids_newest_first("acct_1", Mode::Test, "event").next(),
            Some("evt_new")
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
            .ids_newest_first("acct_1", Mode::Live, "coupon")
            .collect();
        assert_eq!(
            store.get("acct_1", Mode::Live, "coupon", "a").unwrap()["x"],
            1
        );
        assert_eq!(ids, ["c", "b", "a"]);
        assert_eq!(store.count("coupon"), 3);
    }
}
