//! Reading a request's decoded parameters the way Stripe validates them: unknown parameters are
//! refused by name, wrong shapes get Stripe's "Invalid hash" / "Invalid integer" answers, and an
//! empty string means "unset".

use rakguard_catalog::stripe_error;
use serde_json::{Map, Value};

use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::ApiError;

/// A request's parameters, already checked against the names the endpoint accepts.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    values: &'a Value,
}

static EMPTY: Value = Value::Null;

impl<'a> Params<'a> {
    /// Checks that every parameter is one of `allowed` (plus `expand`, which every endpoint
    /// takes); the first unknown one is refused with `parameter_unknown`.
    pub fn new(values: &'a Value, allowed: &[&str]) -> Result<Params<'a>, ApiError> {
        if let Some(map) = values.as_object()
            && let Some(unknown) = map
                .keys()
                .find(|name| name.as_str() != "expand" && !allowed.contains(&name.as_str()))
        {
            return Err(stripe_error::parameter_unknown(unknown).into());
        }
        Ok(Params { values })
    }

    /// The raw value of a parameter.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.values.get(name)
    }

    /// Whether the parameter was sent.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The parameters as a map (empty when none were sent).
    pub fn map(&self) -> &'a Map<String, Value> {
        static EMPTY_MAP: std::sync::LazyLock<Map<String, Value>> =
            std::sync::LazyLock::new(Map::new);
        self.values.as_object().unwrap_or(&EMPTY_MAP)
    }

    /// A string parameter; `Ok(None)` when absent.
    pub fn string(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(stripe_error::malformed_parameter(name, "expected a string").into()),
        }
    }

    /// A string parameter that must be present and non-empty.
    pub fn required_string(&self, name: &str) -> Result<&'a str, ApiError> {
        match self.string(name)? {
            Some(text) if !text.is_empty() => Ok(text),
            Some(_) => Err(stripe_error::parameter_invalid_empty(name).into()),
            None => Err(stripe_error::parameter_missing(name).into()),
        }
    }

    /// An integer parameter; `Ok(None)` when absent; "Invalid integer: x" otherwise.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => text
                .parse::<i64>()
                .map(Some)
                .map_err(|_| stripe_error::invalid_integer(name, text).into()),
            Some(other) => Err(stripe_error::invalid_integer(name, &other.to_string()).into()),
        }
    }

    /// An integer parameter that must be present.
    pub fn required_integer(&self, name: &str) -> Result<i64, ApiError> {
        self.integer(name)?
            .ok_or_else(|| stripe_error::parameter_missing(name).into())
    }

    /// A boolean parameter (`true`/`false`); `Ok(None)` when absent.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.string(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => {
                Err(stripe_error::malformed_parameter(name, "expected true or false").into())
            }
        }
    }

    /// A hash parameter (`name[key]=…`); `Ok(None)` when absent.
    pub fn hash(&self, name: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(stripe_error::invalid_hash(name).into()),
        }
    }

    /// An array parameter (`name[]=…` or `name[0][…]=…`); `Ok(None)` when absent. Indexed hashes
    /// (`items[0][price]`) arrive as objects keyed by index and are returned in index order.
    pub fn array(&self, name: &str) -> Result<Option<Vec<&'a Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.iter().collect())),
            Some(Value::Object(map)) if map.keys().all(|key| key.parse::<usize>().is_ok()) => {
                let mut items: Vec<(usize, &Value)> = map
                    .iter()
                    .filter_map(|(key, value)| Some((key.parse::<usize>().ok()?, value)))
                    .collect();
                items.sort_by_key(|(index, _)| *index);
                Ok(Some(items.into_iter().map(|(_, value)| value).collect()))
            }
            Some(_) => Err(stripe_error::invalid_array(name).into()),
        }
    }

    /// The `limit` of a list: 1 to 100, default 10.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.integer("limit")? {
            None => Ok(DEFAULT_LIMIT),
            Some(limit) if (1..=MAX_LIMIT as i64).contains(&limit) => Ok(limit as usize),
            Some(_) => Err(stripe_error::malformed_parameter(
                "limit",
                "must be an integer between 1 and 100",
            )
            .into()),
        }
    }

    /// A list cursor (`starting_after`, `ending_before`).
    pub fn cursor(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.string(name)? {
            Some("") => Err(stripe_error::parameter_invalid_empty(name).into()),
            other => Ok(other),
        }
    }

    /// Applies `metadata` to an object's metadata: `metadata[k]=v` sets, `metadata[k]=` removes
    /// one key, `metadata=` removes all. Stripe's limits: 50 keys, keys up to 40 characters
    /// without square brackets, values up to 500 characters.
    pub fn apply_metadata(&self, object: &mut Map<String, Value>) -> Result<(), ApiError> {
        let mut metadata = object
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        match self.get("metadata") {
            None => return Ok(()),
            Some(Value::String(text)) if text.is_empty() => metadata.clear(),
            Some(Value::Object(changes)) => {
                for (key, value) in changes {
                    let param = format!("metadata[{key}]");
                    match value {
                        Value::String(text) if text.is_empty() => {
                            metadata.remove(key);
                        }
                        Value::String(text) => {
                            if key.chars().count() > 40 || key.contains(['[', ']']) {
                                return Err(stripe_error::malformed_parameter(
                                    &param,
                                    "metadata keys are at most 40 characters, without square brackets",
                                )
                                .into());
                            }
                            if text.chars().count() > 500 {
                                return Err(stripe_error::malformed_parameter(
                                    &param,
                                    "metadata values are at most 500 characters",
                                )
                                .into());
                            }
                            metadata.insert(key.clone(), value.clone());
                        }
                        _ => {
                            return Err(stripe_error::malformed_parameter(
                                &param,
                                "expected a string",
                            )
                            .into());
                        }
                    }
                }
            }
            Some(_) => return Err(stripe_error::invalid_hash("metadata").into()),
        }
        if metadata.len() > 50 {
            return Err(stripe_error::malformed_parameter(
                "metadata",
                "at most 50 keys are allowed",
            )
            .into());
        }
        object.insert("metadata".to_owned(), Value::Object(metadata));
        Ok(())
    }

    /// Copies string fields that are present into `object`; an empty string sets `null`.
    pub fn apply_strings(
        &self,
        object: &mut Map<String, Value>,
        fields: &[&str],
    ) -> Result<(), ApiError> {
        for field in fields {
            match self.string(field)? {
                None => {}
                Some("") => {
                    object.insert((*field).to_owned(), Value::Null);
                }
                Some(text) => {
                    object.insert((*field).to_owned(), Value::String(text.to_owned()));
                }
            }
        }
        Ok(())
    }
}

impl Default for Params<'_> {
    fn default() -> Self {
        Params { values: &EMPTY }
    }
}
