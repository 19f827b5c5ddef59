//! `rakguard explain`: what a Stripe error means for the key, and how to fix it.

use rakguard_verify::explain::explain;
use rakguard_verify::render::render_explanation;

use crate::cli::ExplainArgs;
use crate::exit::Code;
use crate::input::read_file_or_stdin;

/// Runs `rakguard explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<Code> {
    let (text, name) = read_file_or_stdin(args.file.as_deref())?;
    let explanation =
        explain(args.status, &text).map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
    let rendered = render_explanation(&explanation, args.format.into());
    if rendered.ends_with('\n') {
        print!("{rendered}");
    } else {
        println!("{rendered}");
    }
    Ok(Code::Ok)
}
