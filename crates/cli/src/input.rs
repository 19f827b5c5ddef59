//! Reading inputs: files, standard input and the key, which never comes from the command line.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use secrecy::SecretString;

/// The environment variable a key is read from.
pub const KEY_ENV: &str = "STRIPE_API_KEY";

/// Reads a whole text file, naming it in the error.
pub fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads the key from standard input (`from_stdin`) or from `STRIPE_API_KEY`. The key is held
/// as a secret from the moment it is read.
pub fn read_key(from_stdin: bool) -> anyhow::Result<SecretString> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the key from standard input")?;
        // A key piped in usually ends with one newline; anything else is the parser's to judge.
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        let secret = SecretString::from(trimmed.to_owned());
        zeroize::Zeroize::zeroize(&mut text);
        return Ok(secret);
    }
    match std::env::var(KEY_ENV) {
        Ok(value) => Ok(SecretString::from(value)),
        Err(std::env::VarError::NotPresent) => bail!(
            "no key given: set {KEY_ENV} or pipe the key in with --key-stdin (a key is never taken \
             from the command line, where other users and shell history could see it)"
        ),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{KEY_ENV} is not valid UTF-8"),
    }
}

/// Reads a file, or standard input for `-` (or no path at all). Returns the text and the name to
/// use in messages.
pub fn read_file_or_stdin(path: Option<&Path>) -> anyhow::Result<(String, String)> {
    match path {
        Some(path) if path != Path::new("-") => Ok((read_file(path)?, path.display().to_string())),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            Ok((text, "<stdin>".to_owned()))
        }
    }
}
