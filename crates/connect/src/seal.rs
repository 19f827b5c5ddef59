//! Envelope encryption of merchants' keys at rest.
//!
//! Every sealed value gets its own random 256-bit *data key*. The value is encrypted with the data
//! key (AES-256-GCM, random 96-bit nonce, associated data = the [`Binding`]: tenant, mode and
//! connection id), and the data key is encrypted ("wrapped") with the operator's [`MasterKey`]
//! (AES-256-GCM, associated data = `rakguard-dk-v1` + connection id). The database stores the
//! ciphertext, the wrapped data key and the id of the master key that wrapped it ([`Sealed`]); the
//! master key itself lives only in the service's environment or in a file readable by its owner
//! alone.
//!
//! Consequences:
//! - a database dump alone reveals nothing;
//! - a ciphertext copied to another tenant, mode or connection fails to open
//!   ([`SealError::Integrity`]), as does any altered byte;
//! - rotating the master key ([`Keyring::rewrap`], `rakguard keys rotate-master`) rewraps the small
//!   data keys and never touches the ciphertexts; until every row is rewrapped the previous master
//!   key stays configured in the [`Keyring`].
//!
//! Layouts: `ciphertext` = nonce (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes);
//! `wrapped_key` = nonce (12 bytes) ‖ encrypted data key (32 bytes) ‖ tag (16 bytes).
//!
//! Nothing secret is ever printed: [`MasterKey`]'s `Debug` shows only its [id](MasterKey::id),
//! errors never include key material or plaintext, and plaintext comes back as a [`SecretString`].

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{AeadInPlace as _, KeyInit as _};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::Rng as _;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

/// Length in bytes of a master key and of a data key (AES-256).
pub const KEY_LEN: usize = 32;
/// Length in bytes of the random nonce that starts every ciphertext and wrapped key.
pub const NONCE_LEN: usize = 12;
/// Length in bytes of the AES-GCM authentication tag that ends every ciphertext and wrapped key.
pub const TAG_LEN: usize = 16;
/// Length in bytes of a wrapped data key (nonce, encrypted key, tag).
pub const WRAPPED_KEY_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

/// Domain separation for the associated data of a sealed value.
const SEAL_AAD_DOMAIN: &[u8] = b"rakguard-seal-v1";
/// Domain separation for the associated data of a wrapped data key.
const WRAP_AAD_DOMAIN: &[u8] = b"rakguard-dk-v1";
/// How to make a master key, repeated in every error about one.
const GENERATE_HINT: &str =
    "generate one with `rakguard keys generate-master` (or `openssl rand -base64 32`)";

/// What went wrong while loading a master key or sealing/opening a value.
///
/// No variant carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The master key text is unusable (empty, not standard base64, or not 32 bytes).
    #[error("{origin} is not a usable master key: {problem}; {GENERATE_HINT}")]
    InvalidMasterKey {
        /// Where the text came from, e.g. "the master key" or "the master key file `/etc/…`".
        origin: String,
        /// What is wrong with it.
        problem: MasterKeyProblem,
    },
    /// The master key file could not be opened or read.
    #[error("cannot read the master key file `{}`: {source}", path.display())]
    MasterKeyFile {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The master key file is accessible to its group or to others.
    #[error(
        "the master key file `{path}` is accessible to its group or to others (mode {mode:03o}); \
         run `chmod 600 {path}` (in Kubernetes, mount the secret with `defaultMode: 0400`)",
        path = path.display(),
        mode = mode
    )]
    MasterKeyFilePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits (`mode & 0o777`).
        mode: u32,
    },
    /// The value was sealed with a master key that is not configured.
    #[error(
        "this value was sealed with master key {id}, which is not configured; if the master key \
         was rotated, configure the previous master key alongside the current one \
         (`RAKGUARD_PREVIOUS_MASTER_KEY`), then run `rakguard keys rotate-master` to rewrap \
         every stored key with the current one"
    )]
    UnknownMasterKey {
        /// The id of the missing master key (see [`MasterKey::id`]); not secret.
        id: String,
    },
    /// Authentication failed: the data was altered, belongs to another tenant, mode or connection,
    /// or the master key with that id is not the one that sealed it.
    #[error(
        "sealed data failed its integrity check (altered, moved to another tenant, mode or \
         connection, or wrapped by a different master key)"
    )]
    Integrity,
    /// Encryption itself failed (only possible for absurdly large plaintexts).
    #[error("encryption failed: the value is too large to seal")]
    Encrypt,
}

/// What is wrong with a master key's text (see [`SealError::InvalidMasterKey`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MasterKeyProblem {
    /// Nothing but whitespace.
    Empty,
    /// Base64 with the URL-safe alphabet (`-`, `_`) instead of the standard one.
    UrlSafeAlphabet,
    /// Not valid standard base64 (bad character, bad padding or truncated).
    NotBase64,
    /// Valid base64, but not of exactly 32 bytes.
    WrongLength {
        /// The number of bytes it decodes to.
        len: usize,
    },
}

impl fmt::Display for MasterKeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::UrlSafeAlphabet => f.write_str(
                "it uses the URL-safe base64 alphabet (`-`, `_`); standard base64 \
                 (`+`, `/`, `=` padding) is expected",
            ),
            Self::NotBase64 => f.write_str(
                "it is not valid standard base64 (A-Z, a-z, 0-9, `+`, `/`, with `=` padding)",
            ),
            Self::WrongLength { len } => write!(
                f,
                "it decodes to {len} bytes, but a master key is exactly {KEY_LEN} bytes \
                 (44 base64 characters)"
            ),
        }
    }
}

/// The operator's 256-bit key-encryption key.
///
/// `Debug` prints only [`MasterKey::id`]; the bytes are zeroized on drop.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish()
    }
}

impl MasterKey {
    /// A new random master key (from the operating system's CSPRNG via [`rand::rng`]).
    #[must_use]
    pub fn generate() -> Self {
        Self::from_bytes(random_key())
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let digest = Sha256::digest(bytes.as_slice());
        let id = hex(&digest[..8]);
        Self { bytes, id }
    }

    /// Parses a master key from standard base64 (exactly 32 bytes; surrounding whitespace, such as
    /// a trailing newline, is ignored).
    ///
    /// # Errors
    ///
    /// [`SealError::InvalidMasterKey`] saying what is wrong (never echoing the text) and how to
    /// make a valid key.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        Self::parse(text, "the master key")
    }

    fn parse(text: &str, origin: &str) -> Result<Self, SealError> {
        let invalid = |problem| SealError::InvalidMasterKey {
            origin: origin.to_owned(),
            problem,
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid(MasterKeyProblem::Empty));
        }
        // Reserve enough up front that decoding never reallocates, so that every copy of the
        // decoded bytes is zeroized.
        let mut decoded = Zeroizing::new(Vec::with_capacity(text.len()));
        if STANDARD.decode_vec(text, &mut decoded).is_err() {
            let problem = if text.contains(['-', '_']) {
                MasterKeyProblem::UrlSafeAlphabet
            } else {
                MasterKeyProblem::NotBase64
            };
            return Err(invalid(problem));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        if decoded.len() != KEY_LEN {
            return Err(invalid(MasterKeyProblem::WrongLength {
                len: decoded.len(),
            }));
        }
        bytes.copy_from_slice(&decoded);
        Ok(Self::from_bytes(bytes))
    }

    /// The key as standard base64 (44 characters), e.g. to print once from
    /// `rakguard keys generate-master`.
    #[must_use]
    pub fn to_base64(&self) -> SecretString {
        let mut text = Zeroizing::new(String::with_capacity(44));
        STANDARD.encode_string(self.bytes.as_slice(), &mut text);
        SecretString::from(text.as_str())
    }

    /// Loads the master key from the value of an environment variable or, failing that, from a
    /// file holding its base64 text.
    ///
    /// The environment wins when both are given; an empty (or all-whitespace) environment value
    /// counts as unset. On unix a file accessible to its group or to others is refused. Returns
    /// `Ok(None)` when neither source is given.
    ///
    /// # Errors
    ///
    /// [`SealError::InvalidMasterKey`] for unusable text (naming the file when it came from one),
    /// [`SealError::MasterKeyFile`] when the file cannot be read and
    /// [`SealError::MasterKeyFilePermissions`] when it is not private.
    pub fn load(env_value: Option<&str>, file: Option<&Path>) -> Result<Option<Self>, SealError> {
        if let Some(value) = env_value.filter(|value| !value.trim().is_empty()) {
            return Self::parse(value, "the master key from the environment").map(Some);
        }
        let Some(path) = file else {
            return Ok(None);
        };
        let file_error = |source| SealError::MasterKeyFile {
            path: path.to_owned(),
            source,
        };
        let mut handle = std::fs::File::open(path).map_err(file_error)?;
        // Check the permissions of the file actually opened, not of whatever the path names later.
        let metadata = handle.metadata().map_err(file_error)?;
        check_private(path, &metadata)?;
        let capacity = usize::try_from(metadata.len())
            .unwrap_or(0)
            .saturating_add(1);
        let mut text = Zeroizing::new(String::with_capacity(capacity.min(4096)));
        handle.read_to_string(&mut text).map_err(file_error)?;
        let origin = format!("the master key file `{}`", path.display());
        Self::parse(&text, &origin).map(Some)
    }

    /// A non-secret identifier: the first 16 hex characters of the SHA-256 of the key bytes.
    /// Stored with every sealed value so that the right master key can be chosen after rotation.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` under a fresh random data key, bound to `binding`.
    ///
    /// # Errors
    ///
    /// [`SealError::Encrypt`] only for absurdly large plaintexts (beyond AES-GCM's limit).
    pub fn seal(&self, plaintext: &str, binding: &Binding<'_>) -> Result<Sealed, SealError> {
        let data_key = random_key();
        let ciphertext = aead_seal(&data_key, plaintext.as_bytes(), &binding.aad())?;
        let wrapped_key = self.wrap(&data_key, binding.connection_id)?;
        Ok(Sealed {
            ciphertext,
            wrapped_key,
            master_key_id: self.id.clone(),
        })
    }

    /// Opens a value sealed by this master key with the same `binding`.
    ///
    /// # Errors
    ///
    /// [`SealError::UnknownMasterKey`] when `sealed.master_key_id` is another key's id;
    /// [`SealError::Integrity`] when anything was altered or the binding differs.
    pub fn open(&self, sealed: &Sealed, binding: &Binding<'_>) -> Result<SecretString, SealError> {
        if sealed.master_key_id != self.id {
            return Err(SealError::UnknownMasterKey {
                id: sealed.master_key_id.clone(),
            });
        }
        let data_key = self.unwrap_key(&sealed.wrapped_key, binding.connection_id)?;
        let plaintext = aead_open(&data_key, &sealed.ciphertext, &binding.aad())?;
        let text = std::str::from_utf8(&plaintext).map_err(|_| SealError::Integrity)?;
        // `From<&str>` copies into an allocation of exactly the right size, so the only other copy
        // is `plaintext`, which is zeroized on drop.
        Ok(SecretString::from(text))
    }

    fn wrap(&self, data_key: &[u8; KEY_LEN], connection_id: &str) -> Result<Vec<u8>, SealError> {
        aead_seal(&self.bytes, data_key, &wrap_aad(connection_id))
    }

    fn unwrap_key(
        &self,
        wrapped_key: &[u8],
        connection_id: &str,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, SealError> {
        if wrapped_key.len() != WRAPPED_KEY_LEN {
            return Err(SealError::Integrity);
        }
        let decrypted = aead_open(&self.bytes, wrapped_key, &wrap_aad(connection_id))?;
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        if decrypted.len() != KEY_LEN {
            return Err(SealError::Integrity);
        }
        data_key.copy_from_slice(&decrypted);
        Ok(data_key)
    }
}

/// What a sealed value belongs to. It is authenticated (as AES-GCM associated data) but not
/// stored: opening needs the same tenant, mode and connection id, so a ciphertext copied to
/// another row fails with [`SealError::Integrity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The integrator's tenant (merchant) id.
    pub tenant: &'a str,
    /// The Stripe mode, e.g. `live` or `test`.
    pub mode: &'a str,
    /// The connection's id.
    pub connection_id: &'a str,
}

impl Binding<'_> {
    /// The associated data: a version tag followed by each field as a 4-byte big-endian length
    /// and its bytes, so that no two different bindings encode the same way.
    #[must_use]
    pub fn aad(&self) -> Vec<u8> {
        let fields = [self.tenant, self.mode, self.connection_id];
        let len = SEAL_AAD_DOMAIN.len() + fields.iter().map(|f| 4 + f.len()).sum::<usize>();
        let mut aad = Vec::with_capacity(len);
        aad.extend_from_slice(SEAL_AAD_DOMAIN);
        for field in fields {
            // Lengths beyond u32 cannot occur for ids; saturate rather than panic.
            let field_len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            aad.extend_from_slice(&field_len.to_be_bytes());
            aad.extend_from_slice(field.as_bytes());
        }
        aad
    }
}

/// A sealed value, as stored: nothing here is secret without the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Nonce (12 bytes) ‖ AES-256-GCM ciphertext of the value ‖ tag (16 bytes).
    pub ciphertext: Vec<u8>,
    /// Nonce (12 bytes) ‖ the data key encrypted with the master key ‖ tag (16 bytes).
    pub wrapped_key: Vec<u8>,
    /// [`MasterKey::id`] of the master key that wrapped the data key.
    pub master_key_id: String,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("wrapped_key_len", &self.wrapped_key.len())
            .field("master_key_id", &self.master_key_id)
            .finish()
    }
}

/// The current master key plus any previous ones still needed to open values sealed before a
/// rotation. `Debug` prints only ids.
#[derive(Clone, Debug)]
pub struct Keyring {
    /// Seals new values and is the target of [`Keyring::rewrap`].
    pub current: MasterKey,
    /// Older master keys, used only to open and rewrap.
    pub previous: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring with only a current key.
    #[must_use]
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a previous master key (builder style).
    #[must_use]
    pub fn with_previous(mut self, previous: MasterKey) -> Self {
        self.previous.push(previous);
        self
    }

    /// The configured master key with this id (the current one first), if any.
    #[must_use]
    pub fn find(&self, master_key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id() == master_key_id)
    }

    /// Seals with the current master key (see [`MasterKey::seal`]).
    ///
    /// # Errors
    ///
    /// As [`MasterKey::seal`].
    pub fn seal(&self, plaintext: &str, binding: &Binding<'_>) -> Result<Sealed, SealError> {
        self.current.seal(plaintext, binding)
    }

    /// Opens with whichever configured master key has `sealed.master_key_id`.
    ///
    /// # Errors
    ///
    /// [`SealError::UnknownMasterKey`] when no configured key has that id;
    /// [`SealError::Integrity`] when anything was altered or the binding differs.
    pub fn open(&self, sealed: &Sealed, binding: &Binding<'_>) -> Result<SecretString, SealError> {
        self.key_for(&sealed.master_key_id)?.open(sealed, binding)
    }

    /// Unwraps a data key with the master key `master_key_id` and wraps it again with the current
    /// one (for `rakguard keys rotate-master`). The ciphertext is unchanged; store the result with
    /// `self.current.id()` as its new master key id.
    ///
    /// # Errors
    ///
    /// [`SealError::UnknownMasterKey`] when no configured key has that id;
    /// [`SealError::Integrity`] when the wrapped key was altered or belongs to another connection.
    pub fn rewrap(
        &self,
        wrapped_key: &[u8],
        master_key_id: &str,
        connection_id: &str,
    ) -> Result<Vec<u8>, SealError> {
        let data_key = self
            .key_for(master_key_id)?
            .unwrap_key(wrapped_key, connection_id)?;
        self.current.wrap(&data_key, connection_id)
    }

    fn key_for(&self, master_key_id: &str) -> Result<&MasterKey, SealError> {
        self.find(master_key_id)
            .ok_or_else(|| SealError::UnknownMasterKey {
                id: master_key_id.to_owned(),
            })
    }
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), SealError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SealError::MasterKeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), SealError> {
    Ok(())
}

fn random_key() -> Zeroizing<[u8; KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    rand::rng().fill_bytes(key.as_mut_slice());
    key
}

fn wrap_aad(connection_id: &str) -> Vec<u8> {
    // The domain tag has a fixed length, so plain concatenation is unambiguous.
    [WRAP_AAD_DOMAIN, connection_id.as_bytes()].concat()
}

/// `nonce ‖ AES-256-GCM(key, plaintext, aad) ‖ tag`, built in one allocation so that the
/// plaintext is never left behind in a freed buffer.
fn aead_seal(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    match cipher.encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[NONCE_LEN..]) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(_) => {
            out.zeroize();
            Err(SealError::Encrypt)
        }
    }
}

/// Inverse of [`aead_seal`]; any failure is [`SealError::Integrity`].
fn aead_open(
    key: &[u8; KEY_LEN],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Integrity);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let cipher = Aes256Gcm::new(key.into());
    let mut buffer = Zeroizing::new(body.to_vec());
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            buffer.as_mut_slice(),
            Tag::from_slice(tag),
        )
        .map_err(|_| SealError::Integrity)?;
    Ok(buffer)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret as _;

    // Built with concat! so the source never holds a live-looking key.
    const KEY: &str = concat!("rk_", "live_", "51Habc0123456789abcdefghijklmnopqrstuvwxyz");

    fn binding() -> Binding<'static> {
        Binding {
            tenant: "tenant_1",
            mode: "live",
            connection_id: "conn_1",
        }
    }

    fn open_err(key: &MasterKey, sealed: &Sealed, binding: &Binding<'_>) -> SealError {
        match key.open(sealed, binding) {
            Ok(_) => panic!("opened unexpectedly"),
            Err(error) => error,
        }
    }

    #[test]
    fn round_trip() {
        let key = MasterKey::generate();
        let sealed = key.seal(KEY, &binding()).unwrap();
        assert_eq!(sealed.master_key_id, key.id());
        assert_eq!(sealed.wrapped_key.len(), WRAPPED_KEY_LEN);
        assert_eq!(sealed.ciphertext.len(), NONCE_LEN + KEY.len() + TAG_LEN);
        assert!(
            !sealed
                .ciphertext
                .windows(KEY.len())
                .any(|w| w == KEY.as_bytes())
        );
        let opened = key.open(&sealed, &binding()).unwrap();
        assert_eq!(opened.expose_secret(), KEY);
        // Empty plaintext works too.
        let sealed = key.seal("", &binding()).unwrap();
        assert_eq!(key.open(&sealed, &binding()).unwrap().expose_secret(), "");
    }

    #[test]
    fn every_seal_uses_fresh_randomness() {
        let key = MasterKey::generate();
        let a = key.seal(KEY, &binding()).unwrap();
        let b = key.seal(KEY, &binding()).unwrap();
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_ne!(a.wrapped_key, b.wrapped_key);
        assert_ne!(MasterKey::generate().id(), key.id());
    }

    #[test]
    fn wrong_binding_fails() {
        let key = MasterKey::generate();
        let sealed = key.seal(KEY, &binding()).unwrap();
        for other in [
            Binding {
                tenant: "tenant_2",
                ..binding()
            },
            Binding {
                mode: "test",
                ..binding()
            },
            Binding {
                connection_id: "conn_2",
                ..binding()
            },
        ] {
            assert!(matches!(
                open_err(&key, &sealed, &other),
                SealError::Integrity
            ));
        }
    }

    #[test]
    fn aad_is_unambiguous() {
        let a = Binding {
            tenant: "ab",
            mode: "c",
            connection_id: "d",
        };
        let b = Binding {
            tenant: "a",
            mode: "bc",
            connection_id: "d",
        };
        assert_ne!(a.aad(), b.aad());
        let key = MasterKey::generate();
        let sealed = key.seal(KEY, &a).unwrap();
        assert!(matches!(open_err(&key, &sealed, &b), SealError::Integrity));
    }

    #[test]
    fn wrong_master_key_fails() {
        let key = MasterKey::generate();
        let other = MasterKey::generate();
        let sealed = key.seal(KEY, &binding()).unwrap();
        match open_err(&other, &sealed, &binding()) {
            SealError::UnknownMasterKey { id } => assert_eq!(id, key.id()),
            error => panic!("unexpected {error:?}"),
        }
        // Even if the id is forged to match, the other key cannot unwrap.
        let forged = Sealed {
            master_key_id: other.id().to_owned(),
            ..sealed
        };
        assert!(matches!(
            open_err(&other, &forged, &binding()),
            SealError::Integrity
        ));
    }

    #[test]
    fn truncated_and_swapped_parts_fail() {
        let key = MasterKey::generate();
        let sealed = key.seal(KEY, &binding()).unwrap();
        let other = key.seal(KEY, &binding()).unwrap();
        let swapped = Sealed {
            wrapped_key: other.wrapped_key.clone(),
            ..sealed.clone()
        };
        assert!(matches!(
            open_err(&key, &swapped, &binding()),
            SealError::Integrity
        ));
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN - 1] {
            let short = Sealed {
                ciphertext: sealed.ciphertext[..len].to_vec(),
                ..sealed.clone()
            };
            assert!(matches!(
                open_err(&key, &short, &binding()),
                SealError::Integrity
            ));
            let short = Sealed {
                wrapped_key: sealed.wrapped_key[..len].to_vec(),
                ..sealed.clone()
            };
            assert!(matches!(
                open_err(&key, &short, &binding()),
                SealError::Integrity
            ));
        }
    }

    #[test]
    fn keyring_opens_by_id_and_rewraps() {
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        let sealed = old.seal(KEY, &binding()).unwrap();

        let only_new = Keyring::new(new.clone());
        match only_new.open(&sealed, &binding()) {
            Err(SealError::UnknownMasterKey { id }) => assert_eq!(id, old.id()),
            other => panic!("unexpected {other:?}"),
        }
        let message = SealError::UnknownMasterKey { id: "x".into() }.to_string();
        assert!(message.contains("previous master key"), "{message}");

        let ring = Keyring::new(new.clone()).with_previous(old.clone());
        assert_eq!(ring.open(&sealed, &binding()).unwrap().expose_secret(), KEY);
        assert_eq!(ring.find(old.id()).map(MasterKey::id), Some(old.id()));
        assert!(ring.find("0000000000000000").is_none());

        let rewrapped = ring
            .rewrap(&sealed.wrapped_key, &sealed.master_key_id, "conn_1")
            .unwrap();
        let moved = Sealed {
            ciphertext: sealed.ciphertext.clone(),
            wrapped_key: rewrapped,
            master_key_id: new.id().to_owned(),
        };
        // The new key alone opens the rewrapped value; the old key alone no longer does.
        assert_eq!(
            only_new.open(&moved, &binding()).unwrap().expose_secret(),
            KEY
        );
        assert!(matches!(
            Keyring::new(old.clone()).open(&moved, &binding()),
            Err(SealError::UnknownMasterKey { .. })
        ));
        let forged = Sealed {
            master_key_id: old.id().to_owned(),
            ..moved.clone()
        };
        assert!(matches!(
            old.open(&forged, &binding()),
            Err(SealError::Integrity)
        ));

        // Rewrapping for another connection, or with an unknown id, fails.
        assert!(matches!(
            ring.rewrap(&sealed.wrapped_key, &sealed.master_key_id, "conn_2"),
            Err(SealError::Integrity)
        ));
        assert!(matches!(
            only_new.rewrap(&sealed.wrapped_key, &sealed.master_key_id, "conn_1"),
            Err(SealError::UnknownMasterKey { .. })
        ));
        // Seal goes to the current key.
        assert_eq!(ring.seal(KEY, &binding()).unwrap().master_key_id, new.id());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = MasterKey::generate();
        let base64 = key.to_base64();
        let ring = Keyring::new(key.clone()).with_previous(MasterKey::generate());
        let sealed = key.seal(KEY, &binding()).unwrap();
        let bytes_debug = format!("{:?}", *key.bytes);
        let bytes_hex = hex(key.bytes.as_slice());
        for text in [
            format!("{key:?}"),
            format!("{key:#?}"),
            format!("{ring:?}"),
            format!("{ring:#?}"),
            format!("{sealed:?}"),
        ] {
            assert!(!text.contains(base64.expose_secret()), "{text}");
            assert!(!text.contains(&bytes_debug[1..20]), "{text}");
            assert!(!text.contains(&bytes_hex), "{text}");
            assert!(!text.contains(KEY), "{text}");
        }
        assert_eq!(
            format!("{key:?}"),
            format!("MasterKey {{ id: {:?} }}", key.id())
        );
        assert_eq!(key.id().len(), 16);
        assert!(key.id().bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn base64_round_trip_and_id() {
        let key = MasterKey::generate();
        let text = key.to_base64();
        assert_eq!(text.expose_secret().len(), 44);
        let again = MasterKey::from_base64(&format!("  {}\n", text.expose_secret())).unwrap();
        assert_eq!(again.id(), key.id());
        let sealed = key.seal(KEY, &binding()).unwrap();
        assert_eq!(
            again.open(&sealed, &binding()).unwrap().expose_secret(),
            KEY
        );

        // The id is the first 16 hex characters of SHA-256 of the key bytes.
        let zero = MasterKey::from_base64(&STANDARD.encode([0u8; 32])).unwrap();
        assert_eq!(zero.id(), "66687aadf862bd77");
    }

    fn problem(text: &str) -> MasterKeyProblem {
        match MasterKey::from_base64(text) {
            Err(SealError::InvalidMasterKey { problem, .. }) => problem,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn from_base64_errors() {
        assert_eq!(problem(""), MasterKeyProblem::Empty);
        assert_eq!(problem(" \n"), MasterKeyProblem::Empty);
        assert_eq!(problem("not base64!"), MasterKeyProblem::NotBase64);
        let url_safe = "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8=";
        assert_eq!(problem(url_safe), MasterKeyProblem::UrlSafeAlphabet);
        assert_eq!(
            problem(&STANDARD.encode([7u8; 16])),
            MasterKeyProblem::WrongLength { len: 16 }
        );
        assert_eq!(
            problem(&STANDARD.encode([7u8; 33])),
            MasterKeyProblem::WrongLength { len: 33 }
        );
        // Missing padding is refused rather than guessed at.
        let unpadded = STANDARD.encode([7u8; 32]).trim_end_matches('=').to_owned();
        assert_eq!(problem(&unpadded), MasterKeyProblem::NotBase64);

        let secretish = "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";
        let message = MasterKey::from_base64(secretish).unwrap_err().to_string();
        assert!(!message.contains(secretish), "{message}");
        assert!(
            message.contains("rakguard keys generate-master"),
            "{message}"
        );
        assert!(message.contains("openssl rand -base64 32"), "{message}");
        assert!(message.contains("20 bytes"), "{message}");
    }

    fn temp_file(contents: &str, mode: u32) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "rakguard-seal-test-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            MasterKey::generate().id()
        ));
        std::fs::write(&path, contents).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    #[test]
    fn load_prefers_env_then_file() {
        let env_key = MasterKey::generate();
        let file_key = MasterKey::generate();
        let path = temp_file(
            &format!("{}\n", file_key.to_base64().expose_secret()),
            0o600,
        );

        assert!(MasterKey::load(None, None).unwrap().is_none());
        let loaded = MasterKey::load(Some(env_key.to_base64().expose_secret()), Some(&path));
        assert_eq!(loaded.unwrap().unwrap().id(), env_key.id());
        let loaded = MasterKey::load(None, Some(&path)).unwrap().unwrap();
        assert_eq!(loaded.id(), file_key.id());
        let loaded = MasterKey::load(Some("  "), Some(&path)).unwrap().unwrap();
        assert_eq!(loaded.id(), file_key.id());
        assert!(matches!(
            MasterKey::load(Some("nope"), Some(&path)),
            Err(SealError::InvalidMasterKey { .. })
        ));
        std::fs::remove_file(&path).unwrap();

        let missing = MasterKey::load(None, Some(&path)).unwrap_err();
        assert!(matches!(missing, SealError::MasterKeyFile { .. }));
        assert!(missing.to_string().contains(&path.display().to_string()));
    }

    #[test]
    fn load_names_the_file_when_its_contents_are_bad() {
        let path = temp_file("short\n", 0o600);
        let error = MasterKey::load(None, Some(&path)).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("generate-master"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn load_refuses_a_file_readable_by_others() {
        let key = MasterKey::generate();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            let path = temp_file(key.to_base64().expose_secret(), mode);
            let error = MasterKey::load(None, Some(&path)).unwrap_err();
            std::fs::remove_file(&path).unwrap();
            match &error {
                SealError::MasterKeyFilePermissions { mode: got, .. } => assert_eq!(*got, mode),
                other => panic!("unexpected {other:?}"),
            }
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("chmod 600"), "{message}");
            assert!(
                !message.contains(key.to_base64().expose_secret()),
                "{message}"
            );
        }
        let path = temp_file(key.to_base64().expose_secret(), 0o400);
        let loaded = MasterKey::load(None, Some(&path));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(loaded.unwrap().unwrap().id(), key.id());
    }

    #[test]
    fn errors_never_carry_secrets() {
        let key = MasterKey::generate();
        let sealed = key.seal(KEY, &binding()).unwrap();
        let wrong = Binding {
            tenant: "other",
            ..binding()
        };
        let error = open_err(&key, &sealed, &wrong);
        let text = format!("{error} {error:?}");
        assert!(!text.contains(KEY));
        assert!(!text.contains(key.to_base64().expose_secret()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn prop_round_trip(
            plaintext in ".{0,200}",
            tenant in "[a-z0-9_]{0,12}",
            mode in "live|test|sandbox",
            connection_id in "[a-zA-Z0-9_]{0,24}",
        ) {
            let key = MasterKey::generate();
            let binding = Binding { tenant: &tenant, mode: &mode, connection_id: &connection_id };
            let sealed = key.seal(&plaintext, &binding).unwrap();
            let opened = key.open(&sealed, &binding).unwrap();
            prop_assert_eq!(opened.expose_secret(), plaintext.as_str());
        }

        #[test]
        fn prop_bit_flips_fail(
            plaintext in ".{0,64}",
            in_wrapped_key: bool,
            index: prop::sample::Index,
            bit in 0u8..8,
        ) {
            let key = MasterKey::generate();
            let mut sealed = key.seal(&plaintext, &binding()).unwrap();
            let target = if in_wrapped_key { &mut sealed.wrapped_key } else { &mut sealed.ciphertext };
            let at = index.index(target.len());
            target[at] ^= 1 << bit;
            prop_assert!(matches!(key.open(&sealed, &binding()), Err(SealError::Integrity)));
        }

        #[test]
        fn prop_other_bindings_fail(
            tenant in "[a-z0-9_]{0,8}",
            mode in "[a-z]{0,5}",
            connection_id in "[a-z0-9_]{0,8}",
        ) {
            let other = Binding { tenant: &tenant, mode: &mode, connection_id: &connection_id };
            prop_assume!(other != binding());
            let key = MasterKey::generate();
            let sealed = key.seal(KEY, &binding()).unwrap();
            prop_assert!(matches!(key.open(&sealed, &other), Err(SealError::Integrity)));
        }

        #[test]
        fn prop_from_base64_never_panics_nor_echoes(text in "\\PC{0,80}") {
            if let Err(error) = MasterKey::from_base64(&text) {
                let message = error.to_string();
                let trimmed = text.trim();
                if trimmed.len() >= 8 {
                    prop_assert!(!message.contains(trimmed));
                }
            }
        }
    }
}
