//! `rakguard suggest`: the fewest permissions that allow the requests in a log.

use rakguard_catalog::Catalog;
use rakguard_verify::suggest::{SuggestOptions, suggest_with};

use super::print_json;
use crate::cli::SuggestArgs;
use crate::exit::Code;
use crate::input::read_file_or_stdin;

/// Runs `rakguard suggest`.
pub fn run(args: SuggestArgs) -> anyhow::Result<Code> {
    let (text, name) = read_file_or_stdin(Some(&args.log))?;
    let options = SuggestOptions {
        id: args.id,
        name: args.name,
        key_id: args.key_id,
    };
    let suggestion = suggest_with(Catalog::embedded(), &text, &options);
    let code = if suggestion.manifest.is_some() {
        Code::Ok
    } else {
        Code::Negative
    };
    if args.json {
        print_json(&suggestion)?;
        return Ok(code);
    }
    let unit = if text.trim_start().starts_with(['{', '[']) {
        "entry"
    } else {
        "line"
    };
    for unmatched in &suggestion.unmatched {
        let times = if unmatched.count > 1 {
            format!(" ({}×)", unmatched.count)
        } else {
            String::new()
        };
        eprintln!(
            "{name}: {unit} {}: {}{times}: {}",
            unmatched.at, unmatched.request, unmatched.reason
        );
    }
    match &suggestion.manifest {
        Some(manifest) => print!("{manifest}"),
        None => eprintln!(
            "{name}: none of the {} request(s) maps to a permission, so there is nothing to suggest",
            suggestion.requests
        ),
    }
    Ok(code)
}
