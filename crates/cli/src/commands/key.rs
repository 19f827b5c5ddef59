//! `rakguard key inspect`: offline classification of a key, which is never printed in full.

use rakguard_catalog::key::{ApiKey, KeyKind};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::print_json;
use crate::cli::KeyCommand;
use crate::exit::{Code, KeyRefused};
use crate::input::read_key;

#[derive(Serialize)]
struct Inspection {
    kind: KeyKind,
    mode: rakguard_catalog::key::Mode,
    masked: String,
    length: usize,
    cleaned: Vec<String>,
    usable_as_restricted_key: bool,
    advice: Option<&'static str>,
}

/// Runs `rakguard key …`.
pub fn run(command: KeyCommand) -> anyhow::Result<Code> {
    let KeyCommand::Inspect { key_stdin, json } = command;
    let secret = read_key(key_stdin)?;
    let (key, cleanups) = match ApiKey::parse_lenient(secret.expose_secret()) {
        Ok(parsed) => parsed,
        Err(error) => {
            if json {
                print_json(&serde_json::json!({
                    "error": { "code": error.code(), "message": error.to_string(), "fix": error.fix() }
                }))?;
            }
            return Err(KeyRefused(format!(
                "{error} [{}]\n  fix: {}",
                error.code(),
                error.fix()
            ))
            .into());
        }
    };
    let advice = match key.require_restricted() {
        Ok(()) => None,
        Err(error) => Some(error.fix()),
    };
    let inspection = Inspection {
        kind: key.kind(),
        mode: key.mode(),
        masked: key.masked(),
        length: key.expose_secret().len(),
        cleaned: cleanups.iter().map(ToString::to_string).collect(),
        usable_as_restricted_key: advice.is_none(),
        advice,
    };
    if json {
        print_json(&inspection)?;
    } else {
        println!("{}", inspection.masked);
        println!("  {} ({} characters)", key.describe(), inspection.length);
        for note in &inspection.cleaned {
            println!("  cleaned: {note}");
        }
        if let Some(advice) = advice {
            println!("  note: {advice}");
        }
    }
    Ok(Code::Ok)
}
