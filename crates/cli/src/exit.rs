//! Exit codes, shared by every command so scripts can rely on them.

use std::process::ExitCode;

/// What a command's exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The command did what was asked and the answer is positive.
    Ok = 0,
    /// The answer is negative: a manifest has problems, a path matches no operation, a key
    /// lacks permissions, a comparison found regressions.
    Negative = 1,
    /// Bad usage or unreadable input (clap also exits with 2).
    Usage = 2,
    /// The key was refused (not a usable key for the purpose) or rejected by the API.
    KeyRefused = 3,
    /// The answer could not be determined (rate limited, unreachable, incomplete).
    Undetermined = 4,
}

impl Code {
    /// The code for a verification's verdict.
    pub fn for_verdict(code: rakguard_verify::Code) -> Code {
        if code == rakguard_verify::Code::Ok {
            Code::Ok
        } else if code.is_key_rejected() {
            Code::KeyRefused
        } else if code.is_inconclusive() {
            Code::Undetermined
        } else {
            Code::Negative
        }
    }

    /// The code for an error that ended a command.
    pub fn for_error(error: &anyhow::Error) -> Code {
        if error.downcast_ref::<KeyRefused>().is_some() {
            Code::KeyRefused
        } else {
            Code::Usage
        }
    }
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Marks an error as "the key was refused" (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyRefused(pub String);
