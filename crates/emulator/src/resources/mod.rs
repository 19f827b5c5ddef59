//! Resource handlers: what runs once a request is authenticated, authorised and decoded.
//!
//! [`customers`] is a real resource with storage; [`fallback`] answers every other catalogue
//! operation the way Stripe answers a request for an object that does not exist.

pub mod balance;
pub mod charges;
pub mod checkout_sessions;
pub mod coupons;
pub mod customers;
pub mod events;
pub mod expand;
pub mod fallback;
pub mod invoice_items;
pub mod invoices;
pub mod params;
pub mod payment_intents;
pub mod payment_methods;
pub mod prices;
pub mod products;
pub mod promotion_codes;
pub mod refunds;
pub mod subscriptions;
pub mod webhook_endpoints;

use rakguard_catalog::key::Mode;
use rakguard_catalog::stripe_error::{self, ApiMode, Lookup};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::state::{AppState, Data};
use crate::store::{Found, Text, compact};
use axum::body::Bytes;
use params::Params;

/// What the emulator knows about one stored object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The `object` field and the name in "No such …" messages: `customer`, `checkout.session`.
    pub object: &'static str,
    /// The id prefix, e.g. `cus_`; empty for user-chosen ids (coupons get a random one).
    pub prefix: &'static str,
    /// Letters and digits after the prefix.
    pub id_len: usize,
    /// The list URL, e.g. `/v1/customers`.
    pub url: &'static str,
    /// The event type stem, e.g. `customer` gives `customer.created`; `None` for no events.
    pub events: Option<&'static str>,
}

/// What a handler needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The emulator state.
    pub state: &'a AppState,
    /// The account the request runs on (the platform, or `Stripe-Account`).
    pub account: &'a str,
    /// The key's mode.
    pub mode: Mode,
    /// The decoded parameters (query string for `GET`/`DELETE`, body for `POST`).
    pub params: &'a Value,
    /// The request path, without query string.
    pub path: &'a str,
    /// The request's id (`req_…`), recorded on the events it causes.
    pub request_id: &'a str,
    /// The request's idempotency key, recorded on the events it causes.
    pub idempotency_key: Option<&'a str>,
    /// The path parameters by template name, in order (`[("customer", "cus_1")]`).
    pub path_params: &'a [(&'a str, String)],
    /// What the key may do: resources and expansion ask it before revealing related objects.
    pub authority: &'a crate::api::Authority<'a>,
}

/// The default page size of lists.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest page.
pub const MAX_LIMIT: usize = 100;

impl Ctx<'_> {
    /// Whether the request is in live mode.
    pub fn livemode(&self) -> bool {
        self.mode == Mode::Live
    }

    /// The path parameter with this template name.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(param, _)| *param == name)
            .map(|(_, value)| value.as_str())
    }

    /// The request's parameters, checked against what the endpoint accepts.
    pub fn params(&self, allowed: &[&str]) -> Result<Params<'_>, ApiError> {
        Params::new(self.params, allowed)
    }

    /// The current time, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.state.clock().now()
    }

    /// A fresh id for an object of `kind`.
    pub fn new_id(&self, kind: &Kind) -> String {
        let prefix = if kind.prefix.is_empty() {
            ""
        } else {
            kind.prefix
        };
        self.state.new_object_id(prefix, kind.id_len)
    }

    /// The stored JSON text of an object of `kind` in this request's account and mode.
    pub fn find_stored(&self, kind: &Kind, id: &str) -> Option<Text> {
        self.state
            .read()
            .objects
            .get_text(self.account, self.mode, kind.object, id)
    }

    /// Where an id of `kind` is, for this request's account and mode.
    pub fn find(&self, kind: &Kind, id: &str) -> Found {
        self.state
            .read()
            .objects
            .find(self.account, self.mode, kind.object, id)
    }

    /// The object, or Stripe's 404 ("No such customer: 'x'", with the other-mode hint where the
    /// id exists in the other mode). `param` names the id's parameter (`id` for the path).
    pub fn require(
        &self,
        kind: &Kind,
        id: &str,
        param: &str,
        lookup: Lookup,
    ) -> Result<Value, ApiError> {
        match self.find(kind, id) {
            Found::Here(object) => Ok(object),
            found => Err(missing(kind, &found, id, param, lookup)),
        }
    }

    /// Stores a new object and records its `….created` event.
    pub fn insert(&self, kind: &Kind, object: Value) -> Value {
        self.insert_text(kind, &object);
        object
    }

    /// Stores a new object and records its `….created` event, answering with the stored text
    /// (the create fast path: the object is serialised once for the store, the event and the
    /// response).
    pub fn insert_reply(&self, kind: &Kind, object: &Value) -> Reply {
        Reply::stored(self.insert_text(kind, object))
    }

    fn insert_text(&self, kind: &Kind, object: &Value) -> Text {
        let text = compact(object);
        let event = kind
            .events
            .map(|stem| self.build_event_around(&format!("{stem}.created"), &text, None));
        let id = object_id(object);
        let mut data = self.state.write();
        data.objects
            .insert_text(self.account, self.mode, kind.object, id, Text::clone(&text));
        if let Some(event) = event {
            self.store_event(&mut data, event);
        }
        text
    }

    /// Replaces a stored object and records its `….updated` event with the fields that changed.
    pub fn update(&self, kind: &Kind, before: &Value, after: Value) -> Value {
        let text = compact(&after);
        let event = kind.events.and_then(|stem| {
            let previous = previous_attributes(before, &after);
            (!previous.is_empty()).then(|| {
                self.build_event_around(
                    &format!("{stem}.updated"),
                    &text,
                    Some(Value::Object(previous)),
                )
            })
        });
        let id = object_id(&after);
        let mut data = self.state.write();
        data.objects
            .replace_text(self.account, self.mode, kind.object, &id, text);
        if let Some(event) = event {
            self.store_event(&mut data, event);
        }
        after
    }

    /// Records an event other than created/updated/deleted (e.g. `invoice.paid`).
    pub fn event(&self, event_type: &str, object: &Value) {
        let event = self.build_event(event_type, object, None);
        let mut data = self.state.write();
        self.store_event(&mut data, event);
    }

    /// Deletes a stored object, records its `….deleted` event, and returns Stripe's deletion
    /// object (`{"id", "object", "deleted": true}`).
    pub fn delete(&self, kind: &Kind, id: &str) -> Value {
        let removed = self
            .state
            .write()
            .objects
            .delete(self.account, self.mode, kind.object, id);
        if let (Some(object), Some(stem)) = (removed, kind.events) {
            self.event(&format!("{stem}.deleted"), &object);
        }
        deleted(kind, id)
    }

    /// An event about `object`, serialised, ready to be stored by [`Ctx::store_event`].
    fn build_event(&self, event_type: &str, object: &Value, previous: Option<Value>) -> BuiltEvent {
        self.build_event_around(event_type, &compact(object), previous)
    }

    /// An event around an object already serialised: the event's own fields, with the object's
    /// text shared rather than copied (see [`Store::insert_framed`]).
    fn build_event_around(
        &self,
        event_type: &str,
        object_text: &Text,
        previous: Option<Value>,
    ) -> BuiltEvent {
        let id = self.state.new_object_id(EVENT.prefix, EVENT.id_len);
        // The fields are written in Stripe's order; strings go through serde_json for escaping.
        let mut text: Vec<u8> = Vec::with_capacity(384);
        let string = |out: &mut Vec<u8>, value: &str| {
            // Writing a `&str` into a `Vec` cannot fail.
            let _ = serde_json::to_writer(out, value);
        };
        text.extend_from_slice(b"{\"id\":");
        string(&mut text, &id);
        text.extend_from_slice(b",\"object\":\"event\",\"api_version\":");
        string(&mut text, self.state.default_stripe_version());
        text.extend_from_slice(b",\"created\":");
        text.extend_from_slice(self.state.clock().now().to_string().as_bytes());
        text.extend_from_slice(b",\"data\":{\"object\":");
        let at = text.len();
        if let Some(previous) = previous {
            text.extend_from_slice(b",\"previous_attributes\":");
            let _ = serde_json::to_writer(&mut text, &previous);
        }
        text.extend_from_slice(b"},\"livemode\":");
        text.extend_from_slice(if self.livemode() { b"true" } else { b"false" });
        text.extend_from_slice(b",\"pending_webhooks\":0,\"request\":{\"id\":");
        string(&mut text, self.request_id);
        text.extend_from_slice(b",\"idempotency_key\":");
        match self.idempotency_key {
            Some(key) => string(&mut text, key),
            None => text.extend_from_slice(b"null"),
        }
        text.extend_from_slice(b"},\"type\":");
        string(&mut text, event_type);
        text.push(b'}');
        // Only whole UTF-8 strings and ASCII were written.
        let text = String::from_utf8(text).unwrap_or_default();
        BuiltEvent {
            frame: text.into_boxed_str(),
            at,
            object: Text::clone(object_text),
            outgoing: crate::state::Outgoing {
                account: self.account.to_owned(),
                mode: self.mode,
                event_id: id,
                event_type: event_type.to_owned(),
            },
        }
    }

    fn store_event(&self, data: &mut Data, event: BuiltEvent) {
        data.objects.insert_framed(
            self.account,
            self.mode,
            EVENT.object,
            event.outgoing.event_id.clone(),
            event.frame,
            event.at,
            event.object,
        );
        data.outbox.push(event.outgoing);
    }

    /// `GET …/{id}` of a stored resource: no parameters but `expand`, the object as stored (sent
    /// without re-serialising), or Stripe's 404 with the other-mode hint.
    pub fn retrieve(&self, kind: &Kind, id: &str) -> Outcome {
        self.params(&[])?;
        match self.find_stored(kind, id) {
            Some(text) => Ok(Reply::stored(text)),
            None => Err(missing(kind, &self.find(kind, id), id, "id", Lookup::Path)),
        }
    }

    /// A list filtered the way most of Stripe's list endpoints filter: each of `fields` that was
    /// sent as a parameter must equal the object's field of the same name.
    pub fn list_by(&self, kind: &Kind, params: &Params<'_>, fields: &[&str]) -> Outcome {
        let mut wanted = Vec::new();
        for field in fields {
            if let Some(value) = params.string(field)? {
                wanted.push((*field, value));
            }
        }
        self.list(kind, params, |object| {
            wanted
                .iter()
                .all(|(field, value)| object.get(*field).and_then(Value::as_str) == Some(*value))
        })
    }

    /// A page of stored objects of `kind`, newest first, that pass `keep`: `limit` (1 to 100,
    /// default 10), `starting_after` or `ending_before`, and `has_more`, as Stripe pages lists.
    pub fn list(&self, kind: &Kind, params: &Params<'_>, keep: impl Fn(&Value) -> bool) -> Outcome {
        let limit = params.limit()?;
        let starting_after = params.cursor("starting_after")?;
        let ending_before = params.cursor("ending_before")?;
        if starting_after.is_some() && ending_before.is_some() {
            return Err(stripe_error::malformed_parameter(
                "ending_before",
                "starting_after and ending_before cannot be combined",
            )
            .into());
        }
        let data = self.state.read();
        let store = &data.objects;
        let ids = store.ids_newest_first(self.account, self.mode, kind.object);
        let get = |id: &str| store.get(self.account, self.mode, kind.object, id);
        let cursor_missing = |id: &str, param: &str| -> ApiError {
            stripe_error::resource_missing(kind.object, id, param, Lookup::Parameter).into()
        };
        // Objects are parsed only as far as the page needs: ids before a `starting_after` cursor
        // are skipped unparsed, and the walk stops one object past the page (for `has_more`).
        let (page, has_more) = if let Some(cursor) = ending_before {
            let newer: Vec<&str> = ids.take_while(|id| *id != cursor).collect();
            if get(cursor).is_none() {
                return Err(cursor_missing(cursor, "ending_before"));
            }
            let matching: Vec<Value> = newer
                .iter()
                .filter_map(|id| get(id))
                .filter(|object| keep(object))
                .collect();
            let start = matching.len().saturating_sub(limit);
            (matching[start..].to_vec(), start > 0)
        } else {
            let mut ids = ids.peekable();
            if let Some(cursor) = starting_after {
                if get(cursor).is_none() {
                    return Err(cursor_missing(cursor, "starting_after"));
                }
                for id in ids.by_ref() {
                    if id == cursor {
                        break;
                    }
                }
            }
            let mut page = Vec::with_capacity(limit);
            let mut has_more = false;
            for object in ids.filter_map(get).filter(|object| keep(object)) {
                if page.len() == limit {
                    has_more = true;
                    break;
                }
                page.push(object);
            }
            (page, has_more)
        };
        Ok(Reply::ok(json!({
            "object": "list",
            "data": page,
            "has_more": has_more,
            "url": kind.url,
        })))
    }
}

/// An event built outside the data lock.
struct BuiltEvent {
    /// The event's text without the object's: see [`Store::insert_framed`].
    frame: Box<str>,
    at: usize,
    object: Text,
    outgoing: crate::state::Outgoing,
}

/// The `id` field of an object.
fn object_id(object: &Value) -> String {
    object
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Events, stored like any object.
pub const EVENT: Kind = Kind {
    object: "event",
    prefix: "evt_",
    id_len: 24,
    url: "/v1/events",
    events: None,
};

/// Stripe's 404 for an id that is not usable in this request.
pub fn missing(kind: &Kind, found: &Found, id: &str, param: &str, lookup: Lookup) -> ApiError {
    match found {
        Found::OtherMode(mode) => {
            let mode = match mode {
                Mode::Test => ApiMode::Test,
                Mode::Live => ApiMode::Live,
            };
            stripe_error::resource_missing_in_other_mode(kind.object, id, param, mode, lookup)
                .into()
        }
        _ => stripe_error::resource_missing(kind.object, id, param, lookup).into(),
    }
}

/// Stripe's answer to a deletion: `{"id", "object", "deleted": true}`.
pub fn deleted(kind: &Kind, id: &str) -> Value {
    json!({ "id": id, "object": kind.object, "deleted": true })
}

/// The top-level fields of `before` that differ in `after`, with their old values (the
/// `previous_attributes` of an `….updated` event).
fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Map::new();
    };
    before
        .iter()
        .filter(|(field, value)| after.get(*field) != Some(*value))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect()
}

/// A successful answer: the status and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The body (`Null` while the reply holds stored text; see [`Reply::stored`]).
    pub body: Value,
    /// The body as stored JSON text, sent as it is.
    stored: Option<Text>,
}

impl Reply {
    /// 200 with `body`.
    pub fn ok(body: Value) -> Self {
        Reply {
            status: 200,
            body,
            stored: None,
        }
    }

    /// 200 with an object exactly as the store holds it: the retrieve fast path, which skips
    /// parsing and serialising the object again.
    pub fn stored(text: Text) -> Self {
        Reply {
            status: 200,
            body: Value::Null,
            stored: Some(text),
        }
    }

    /// The body as JSON text for the wire (stored text is sent without a copy).
    pub fn into_bytes(self) -> Bytes {
        match self.stored {
            Some(text) => Bytes::from_owner(SharedText(text)),
            None => Bytes::from(self.body.to_string()),
        }
    }

    /// The body as a JSON tree (parsing stored text when needed), for expansion and idempotency
    /// records.
    pub fn into_json(self) -> Reply {
        match self.stored {
            Some(text) => Reply::ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            None => self,
        }
    }
}

/// Stored text as the bytes of a response body.
struct SharedText(Text);

impl AsRef<[u8]> for SharedText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// What a handler returns.
pub type Outcome = Result<Reply, ApiError>;

/// The resource modules that implement operations, asked in turn before the fallback.
type Route = fn(&Ctx<'_>, rakguard_catalog::endpoint::Method, &str, &str) -> Option<Outcome>;

/// Every resource router, in the order they are asked.
pub const ROUTES: [Route; 15] = [
    balance::route,
    charges::route,
    checkout_sessions::route,
    coupons::route,
    events::route,
    invoice_items::route,
    invoices::route,
    payment_intents::route,
    payment_methods::route,
    prices::route,
    products::route,
    promotion_codes::route,
    refunds::route,
    subscriptions::route,
    webhook_endpoints::route,
];
