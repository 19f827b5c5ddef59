//! Decoding of Stripe's v1 request encoding: `application/x-www-form-urlencoded` bodies and query
//! strings with bracketed nesting (`metadata[k]=v`, `items[0][price]=p`, `expand[]=a`), into a
//! [`serde_json::Value`] tree whose leaves are strings.
//!
//! The module is pure and total: any input yields either a tree or a [`FormError`] naming the
//! parameter at fault, never a panic (a property test checks this).
//!
//! Shapes: `a[b]` makes an object, `a[0]` an array ordered by index (gaps close up), `a[]` appends
//! to an array. Empty brackets are accepted only as the last segment. A name used both as a value
//! and as a container (`a=1&a[b]=2`), or as two kinds of container (`a[]=1&a[b]=2`), is an error.
//! A repeated plain value keeps the last one, as Rack-style decoders do.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;

use serde_json::{Map, Value};

/// The deepest nesting accepted (`a[b][c]…`): deeper keys are refused rather than built.
pub const MAX_DEPTH: usize = 16;

/// Why a parameter could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormErrorReason {
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded.
    BadEncoding,
    /// Brackets that do not pair up, or text after a closing bracket.
    UnbalancedBrackets,
    /// A key with no name before its first bracket (`[a]=1`, `=1`).
    EmptyName,
    /// Empty brackets (`a[][b]`) anywhere but at the end.
    EmptyBracketsNotLast,
    /// More than [`MAX_DEPTH`] levels of nesting.
    TooDeep,
    /// The same name used as a value and as a container, or as two kinds of container.
    ConflictingShapes,
}

impl FormErrorReason {
    /// A short explanation, used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            FormErrorReason::BadEncoding => "invalid percent-encoding",
            FormErrorReason::UnbalancedBrackets => "unbalanced brackets",
            FormErrorReason::EmptyName => "empty parameter name",
            FormErrorReason::EmptyBracketsNotLast => "empty brackets must come last",
            FormErrorReason::TooDeep => "nested too deeply",
            FormErrorReason::ConflictingShapes => "used both as a value and as a hash or array",
        }
    }
}

impl fmt::Display for FormErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A parameter that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameter '{param}': {reason}")]
pub struct FormError {
    /// The parameter as sent (percent-decoded when possible), such as `a[b]`.
    pub param: String,
    /// What is wrong with it.
    pub reason: FormErrorReason,
}

/// One bracketed segment of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Name(String),
    Index(u64),
    Append,
}

/// The tree under construction.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Map(BTreeMap<String, Node>),
    Indexed(BTreeMap<u64, Node>),
    List(Vec<Node>),
}

/// Decodes a form body or query string (without the leading `?`) into a JSON object.
pub fn decode(input: &str) -> Result<Value, FormError> {
    let mut root: BTreeMap<String, Node> = BTreeMap::new();
    for pair in input.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode_strict(raw_key).map_err(|()| FormError {
            param: String::from_utf8_lossy(raw_key.as_bytes()).into_owned(),
            reason: FormErrorReason::BadEncoding,
        })?;
        let fail = |reason| FormError {
            param: key.clone(),
            reason,
        };
        let value =
            percent_decode_strict(raw_value).map_err(|()| fail(FormErrorReason::BadEncoding))?;
        let (name, segments) = parse_key(&key).map_err(fail)?;
        put(&mut root, name, &segments, value).map_err(fail)?;
    }
    Ok(Value::Object(
        root.into_iter()
            .map(|(name, node)| (name, node.into_value()))
            .collect(),
    ))
}

/// Percent-decodes `raw`, turning `+` into a space; refuses malformed escapes and non-UTF-8.
fn percent_decode_strict(raw: &str) -> Result<String, ()> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => decoded.push(b' '),
            b'%' => {
                let high = bytes.get(index + 1).and_then(|digit| hex_value(*digit));
                let low = bytes.get(index + 2).and_then(|digit| hex_value(*digit));
                match (high, low) {
                    (Some(high), Some(low)) => decoded.push(high << 4 | low),
                    _ => return Err(()),
                }
                index += 2;
            }
            other => decoded.push(other),
        }
        index += 1;
    }
    String::from_utf8(decoded).map_err(|_| ())
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Splits `a[b][0][]` into the name `a` and its segments.
fn parse_key(key: &str) -> Result<(String, Vec<Segment>), FormErrorReason> {
    let (name, mut rest) = match key.find(['[', ']']) {
        Some(position) => key.split_at(position),
        None => (key, ""),
    };
    if name.is_empty() {
        return Err(FormErrorReason::EmptyName);
    }
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let inner_and_more = rest
            .strip_prefix('[')
            .ok_or(FormErrorReason::UnbalancedBrackets)?;
        let close = inner_and_more
            .find(']')
            .ok_or(FormErrorReason::UnbalancedBrackets)?;
        let (inner, after) = inner_and_more.split_at(close);
        if inner.contains('[') {
            return Err(FormErrorReason::UnbalancedBrackets);
        }
        rest = after.get(1..).unwrap_or("");
        if segments.last() == Some(&Segment::Append) {
            return Err(FormErrorReason::EmptyBracketsNotLast);
        }
        segments.push(if inner.is_empty() {
            Segment::Append
        } else if inner.len() <= 9 && inner.bytes().all(|byte| byte.is_ascii_digit()) {
            inner
                .parse()
                .map_or_else(|_| Segment::Name(inner.to_owned()), Segment::Index)
        } else {
            Segment::Name(inner.to_owned())
        });
        if segments.len() > MAX_DEPTH {
            return Err(FormErrorReason::TooDeep);
        }
    }
    Ok((name.to_owned(), segments))
}

/// Stores `value` under `key` followed by `rest` in `map`.
fn put<K: Ord>(
    map: &mut BTreeMap<K, Node>,
    key: K,
    rest: &[Segment],
    value: String,
) -> Result<(), FormErrorReason> {
    match map.entry(key) {
        Entry::Vacant(vacant) => {
            vacant.insert(build(rest, value)?);
            Ok(())
        }
        Entry::Occupied(mut occupied) => {
            let node = occupied.get_mut();
            if rest.is_empty() {
                match node {
                    Node::Leaf(existing) => {
                        *existing = value;
                        Ok(())
                    }
                    _ => Err(FormErrorReason::ConflictingShapes),
                }
            } else {
                insert_into(node, rest, value)
            }
        }
    }
}

/// A fresh node holding `value` under `rest`.
fn build(rest: &[Segment], value: String) -> Result<Node, FormErrorReason> {
    let Some(first) = rest.first() else {
        return Ok(Node::Leaf(value));
    };
    let mut node = match first {
        Segment::Name(_) => Node::Map(BTreeMap::new()),
        Segment::Index(_) => Node::Indexed(BTreeMap::new()),
        Segment::Append => Node::List(Vec::new()),
    };
    insert_into(&mut node, rest, value)?;
    Ok(node)
}

/// Stores `value` under the non-empty `segments` inside the container `node`.
fn insert_into(
    node: &mut Node,
    segments: &[Segment],
    value: String,
) -> Result<(), FormErrorReason> {
    let Some((first, rest)) = segments.split_first() else {
        return Err(FormErrorReason::ConflictingShapes);
    };
    match (node, first) {
        (Node::Map(map), Segment::Name(name)) => put(map, name.clone(), rest, value),
        (Node::Map(map), Segment::Index(index)) => put(map, index.to_string(), rest, value),
        (Node::Indexed(map), Segment::Index(index)) => put(map, *index, rest, value),
        (node @ Node::Indexed(_), Segment::Name(name)) => {
            // `a[0]=x&a[b]=y`: the keys were not all indices after all, so it is a hash.
            let Node::Indexed(indexed) = std::mem::replace(node, Node::Leaf(String::new())) else {
                return Err(FormErrorReason::ConflictingShapes);
            };
            let mut map: BTreeMap<String, Node> = indexed
                .into_iter()
                .map(|(index, child)| (index.to_string(), child))
                .collect();
            let result = put(&mut map, name.clone(), rest, value);
            *node = Node::Map(map);
            result
        }
        (Node::List(list), Segment::Append) if rest.is_empty() => {
            list.push(Node::Leaf(value));
            Ok(())
        }
        _ => Err(FormErrorReason::ConflictingShapes),
    }
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(text) => Value::String(text),
            Node::Map(map) => Value::Object(
                map.into_iter()
                    .map(|(key, child)| (key, child.into_value()))
                    .collect::<Map<String, Value>>(),
            ),
            Node::Indexed(map) => Value::Array(map.into_values().map(Node::into_value).collect()),
            Node::List(list) => Value::Array(list.into_iter().map(Node::into_value).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn ok(input: &str) -> Value {
        decode(input).unwrap_or_else(|error| panic!("{input:?} failed: {error}"))
    }

    fn err(input: &str) -> FormError {
        match decode(input) {
            Ok(value) => panic!("{input:?} decoded to {value}"),
            Err(error) => error,
        }
    }

    #[test]
    fn flat_pairs_decode_with_plus_and_percent() {
        assert_eq!(
            ok("email=a%40b.c&name=Jane+Doe&empty="),
            json!({"email": "a@b.c", "name": "Jane Doe", "empty": ""})
        );
    }

    #[test]
    fn empty_input_is_an_empty_object() {
        assert_eq!(ok(""), json!({}));
        assert_eq!(ok("&&"), json!({}));
    }

    #[test]
    fn bracketed_keys_nest() {
        assert_eq!(
            ok("metadata[order]=6735&metadata[k]=v"),
            json!({"metadata": {"order": "6735", "k": "v"}})
        );
        assert_eq!(
            ok("items[0][price]=p&items[1][price]=q&items[0][quantity]=2"),
            json!({"items": [{"price": "p", "quantity": "2"}, {"price": "q"}]})
        );
        assert_eq!(ok("expand[]=a&expand[]=b"), json!({"expand": ["a", "b"]}));
        assert_eq!(
            ok("a[b][c][d][e]=deep"),
            json!({"a": {"b": {"c": {"d": {"e": "deep"}}}}})
        );
    }

    #[test]
    fn encoded_brackets_nest_like_literal_ones() {
        assert_eq!(ok("metadata%5Bk%5D=v"), json!({"metadata": {"k": "v"}}));
    }

    #[test]
    fn sparse_indices_close_up_in_order() {
        assert_eq!(ok("a[5]=x&a[2]=y"), json!({"a": ["y", "x"]}));
    }

    #[test]
    fn index_then_name_becomes_a_hash() {
        assert_eq!(ok("a[0]=x&a[b]=y"), json!({"a": {"0": "x", "b": "y"}}));
    }

    #[test]
    fn repeated_plain_value_keeps_the_last() {
        assert_eq!(ok("a=1&a=2"), json!({"a": "2"}));
    }

    #[test]
    fn bad_percent_encoding_names_the_parameter() {
        let error = err("name=%zz");
        assert_eq!(error.param, "name");
        assert_eq!(error.reason, FormErrorReason::BadEncoding);
        assert_eq!(err("na%me=1").reason, FormErrorReason::BadEncoding);
        assert_eq!(err("a=%").reason, FormErrorReason::BadEncoding);
        assert_eq!(err("a=%C3%28").reason, FormErrorReason::BadEncoding);
    }

    #[test]
    fn unbalanced_brackets_are_refused() {
        for input in ["a[b=1", "a]=1", "a[b]c=1", "a[b[c]]=1", "a[b]]=1"] {
            assert_eq!(
                err(input).reason,
                FormErrorReason::UnbalancedBrackets,
                "{input}"
            );
        }
    }

    #[test]
    fn empty_names_are_refused() {
        assert_eq!(err("[a]=1").reason, FormErrorReason::EmptyName);
        assert_eq!(err("=1").reason, FormErrorReason::EmptyName);
    }

    #[test]
    fn empty_brackets_must_be_last() {
        assert_eq!(
            err("a[][b]=1").reason,
            FormErrorReason::EmptyBracketsNotLast
        );
    }

    #[test]
    fn conflicting_shapes_are_refused_in_either_order() {
        for input in [
            "a=1&a[b]=2",
            "a[b]=2&a=1",
            "a[]=1&a[b]=2",
            "a[b]=1&a[]=2",
            "a[0]=1&a[]=2",
            "a[b]=1&a[b][c]=2",
        ] {
            let error = err(input);
            assert_eq!(error.reason, FormErrorReason::ConflictingShapes, "{input}");
            assert!(error.param.starts_with('a'), "{input}: {}", error.param);
        }
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
        assert_eq!(err(&deep).reason, FormErrorReason::TooDeep);
        let fine = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
        assert!(decode(&fine).is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(input in ".*") {
            let _ = decode(&input);
        }

        #[test]
        fn form_shaped_strings_never_panic(input in "[a-c\\[\\]=&%0-9+]{0,40}") {
            let _ = decode(&input);
        }

        #[test]
        fn flat_values_round_trip(name in "[a-z]{1,8}", value in "[ -~]{0,20}") {
            let encoded: String = value
                .bytes()
                .map(|byte| format!("%{byte:02X}"))
                .collect();
            let decoded = decode(&format!("{name}={encoded}")).map_err(|error| TestCaseError::fail(error.to_string()))?;
            prop_assert_eq!(decoded, serde_json::json!({ name: value }));
        }
    }
}
