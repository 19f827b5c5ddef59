//! Randomness and time: the seeded generator behind every id and secret, and the emulator clock.
//!
//! Both are inputs. With a seed, the same sequence of calls yields the same ids and secrets; the
//! clock reads the system time plus an offset that tests move forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The emulator's random source: seeded when a seed is given, from the OS otherwise.
#[derive(Debug)]
pub struct Ids {
    rng: StdRng,
    /// The next object id's sequence number (see [`Ids::object_id`]).
    sequence: u64,
}

/// Base 62 digits in ASCII order, so that ids compare as their sequence numbers do.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How many leading characters of an object id count up.
const SEQUENCE_DIGITS: usize = 6;

/// 62 to the power of [`SEQUENCE_DIGITS`]: the sequence wraps here.
const SEQUENCE_SPAN: u64 = 62u64.pow(SEQUENCE_DIGITS as u32);

impl Ids {
    /// A generator from `seed`, or from the operating system's randomness.
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::try_from_rng(&mut rand::rngs::SysRng)
                .unwrap_or_else(|_| StdRng::seed_from_u64(fallback_seed())),
        };
        let mut rng = rng;
        // Each run's object ids start somewhere in the first half of the span, far from its end.
        let sequence = rng.random_range(0..SEQUENCE_SPAN / 2);
        Ids { rng, sequence }
    }

    /// `count` ASCII letters and digits.
    pub fn alphanumeric(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(self.rng.sample(Alphanumeric)))
            .collect()
    }

    /// `prefix` followed by `count` letters and digits.
    pub fn id(&mut self, prefix: &str, count: usize) -> String {
        format!("{prefix}{}", self.alphanumeric(count))
    }

    /// An object id: `prefix` and `count` letters and digits, of which the first six count up
    /// in base 62 and the rest are random (ids shorter than 12 are all random).
    ///
    /// Stripe's ids are roughly ordered by creation time in the same way. The store keeps
    /// objects in B-trees keyed by id, and ids that grow append at the tree's right edge instead
    /// of landing on a random node: on a store of 100,000 objects that is the difference between
    /// a few cache misses and none per insert. Secrets use [`Ids::id`], which is all random.
    pub fn object_id(&mut self, prefix: &str, count: usize) -> String {
        if count < 2 * SEQUENCE_DIGITS {
            return self.id(prefix, count);
        }
        let mut id = String::with_capacity(prefix.len() + count);
        id.push_str(prefix);
        let mut digits = [0u8; SEQUENCE_DIGITS];
        let mut rest = self.sequence;
        for digit in digits.iter_mut().rev() {
            *digit = DIGITS[(rest % 62) as usize];
            rest /= 62;
        }
        self.sequence = (self.sequence + 1) % SEQUENCE_SPAN;
        id.extend(digits.iter().map(|&digit| char::from(digit)));
        id.extend((SEQUENCE_DIGITS..count).map(|_| char::from(self.rng.sample(Alphanumeric))));
        id
    }

    /// A number in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// A number in `0..=max`.
    pub fn up_to(&mut self, max: u64) -> u64 {
        self.rng.random_range(0..=max)
    }
}

/// A seed for the rare case the OS has no randomness to give: the clock's nanoseconds.
fn fallback_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0)
}

/// The emulator's clock: system time plus an adjustable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_millis: AtomicI64,
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        system.saturating_add(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch, as Stripe's `created` fields count.
    pub fn now(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::Relaxed);
    }
}

/// Parses a timestamp given as Unix seconds or RFC 3339 (`2026-01-31T12:00:00Z`,
/// `2026-01-31T12:00:00.5+02:00`) into Unix seconds.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let separators_ok = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    if !separators_ok {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes().get(3) != Some(&b':') {
                return None;
            }
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat() {
        let mut first = Ids::new(Some(7));
        let mut second = Ids::new(Some(7));
        assert_eq!(first.id("cus_", 14), second.id("cus_", 14));
        assert_eq!(first.id("cus_", 14).len(), 18);
    }

    #[test]
    fn object_ids_count_up_in_their_first_six_characters() {
        let mut ids = Ids::new(Some(7));
        let made: Vec<String> = (0..1000).map(|_| ids.object_id("cus_", 14)).collect();
        for pair in made.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
            assert_eq!(pair[1].len(), 18);
            assert!(
                pair[1][4..]
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric())
            );
        }
        // The random part differs between consecutive ids; short ids are all random.
        assert_ne!(made[0][10..], made[1][10..]);
        assert_eq!(ids.object_id("x_", 8).len(), 10);
        let mut again = Ids::new(Some(7));
        assert_eq!(again.object_id("cus_", 14), made[0]);
    }

    #[test]
    fn the_sequence_carries_across_digits() {
        let mut ids = Ids::new(Some(1));
        ids.sequence = 61;
        let before = ids.object_id("cus_", 14);
        let after = ids.object_id("cus_", 14);
        assert_eq!(&before[4..10], "00000z");
        assert_eq!(&after[4..10], "000010");
        ids.sequence = SEQUENCE_SPAN - 1;
        assert_eq!(&ids.object_id("cus_", 14)[4..10], "zzzzzz");
        assert_eq!(&ids.object_id("cus_", 14)[4..10], "000000");
    }

    #[test]
    fn timestamps_parse_in_both_forms() {
        assert_eq!(parse_timestamp("0"), Some(0));
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_timestamp("2023-11-15T00:13:20.250+02:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_timestamp("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_timestamp("2023-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2023-11-14T22:13:20"), None);
    }

    #[test]
    fn the_clock_moves_forward_when_told() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() >= before + 3600);
    }
}
