//! New passwords: [`LENGTH`] characters drawn uniformly from printable ASCII
//! (`!` to `~`, so never a space) less the excluded characters, with at
//! least one of each kind the alphabet still has (upper case, lower case,
//! digit, punctuation), as Secrets Manager's `GetRandomPassword` makes them.
//!
//! Made here, not by `GetRandomPassword`: that call takes no resource, so
//! it would need `Resource: "*"`, which the function's role does not have
//! (`tests/templates/tests/rotation.rs`). The randomness is the system's
//! CSPRNG, through ring.

use crate::credentials::Password;

/// The length of every new password (the secret's first one has 32 too).
pub const LENGTH: usize = 32;

/// Why no password was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The exclusions leave too little to draw from.
    #[error(
        "TANDEM_EXCLUDE_CHARACTERS leaves only {0} characters to make passwords from; exclude fewer (at least 20 must remain)"
    )]
    TooFewCharacters(usize),
    /// The system's random source failed.
    #[error("the system's random number generator failed; invoke the step again")]
    Random,
}

/// The fewest characters a password is drawn from.
pub const MIN_ALPHABET: usize = 20;

/// Printable ASCII less `exclude`.
pub fn alphabet(exclude: &str) -> Vec<u8> {
    (b'!'..=b'~').filter(|c| !exclude.contains(char::from(*c))).collect()
}

/// A new password from `exclude`'s alphabet and the system's CSPRNG.
pub fn generate(exclude: &str) -> Result<Password, PasswordError> {
    let rng = ring::rand::SystemRandom::new();
    from_bytes(exclude, |buf| {
        ring::rand::SecureRandom::fill(&rng, buf).map_err(|_| PasswordError::Random)
    })
}

/// A new password from `exclude`'s alphabet and the random bytes `fill` writes.
pub fn from_bytes(
    exclude: &str,
    mut fill: impl FnMut(&mut [u8]) -> Result<(), PasswordError>,
) -> Result<Password, PasswordError> {
    let alphabet = alphabet(exclude);
    if alphabet.len() < MIN_ALPHABET {
        return Err(PasswordError::TooFewCharacters(alphabet.len()));
    }
    // Bytes at or above `limit` are dropped, so that each character is as
    // likely as any other (no modulo bias).
    let limit = 256 - 256 % alphabet.len();
    let kinds: Vec<fn(&u8) -> bool> = vec![
        u8::is_ascii_uppercase,
        u8::is_ascii_lowercase,
        u8::is_ascii_digit,
        u8::is_ascii_punctuation,
    ];
    let wanted: Vec<_> = kinds.into_iter().filter(|k| alphabet.iter().any(k)).collect();
    // A draw lacks a kind with a chance of well under 1 in 1,000: 100 tries
    // fail only when the random source is broken.
    for _ in 0..100 {
        let mut chars = Vec::with_capacity(LENGTH);
        let mut buf = [0u8; 64];
        let mut fills = 0;
        while chars.len() < LENGTH {
            fills += 1;
            if fills > 100 {
                // Thousands of bytes, all above the limit: a broken source.
                return Err(PasswordError::Random);
            }
            fill(&mut buf)?;
            let usable = buf.iter().filter(|b| usize::from(**b) < limit);
            chars.extend(
                usable
                    .map(|b| alphabet[usize::from(*b) % alphabet.len()])
                    .take(LENGTH - chars.len()),
            );
        }
        if wanted.iter().all(|kind| chars.iter().any(kind)) {
            return Ok(Password::new(String::from_utf8_lossy(&chars).into_owned()));
        }
    }
    Err(PasswordError::Random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ALWAYS_EXCLUDED;

    #[test]
    fn passwords_are_32_characters_of_the_alphabet_with_every_kind() {
        for _ in 0..200 {
            let p = generate(ALWAYS_EXCLUDED).unwrap();
            let p = p.expose();
            assert_eq!(p.len(), LENGTH);
            for c in p.chars() {
                assert!(
                    c.is_ascii_graphic() && !ALWAYS_EXCLUDED.contains(c),
                    "{c:?} in a password"
                );
            }
            assert!(p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_punctuation()));
        }
        assert_ne!(generate("").unwrap(), generate("").unwrap());
    }

    #[test]
    fn bytes_that_would_favour_some_characters_are_dropped() {
        // 89 characters: bytes 178..=255 would favour the first 78; they are dropped.
        let alphabet = alphabet(ALWAYS_EXCLUDED);
        assert_eq!(alphabet.len(), 89);
        assert_eq!(
            (alphabet[12], alphabet[28], alphabet[59], alphabet[88]),
            (b'0', b'A', b'a', b'~')
        );
        let pattern = [255u8, 177, 12, 178, 28, 59];
        let p = from_bytes(ALWAYS_EXCLUDED, |buf| {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = pattern[i % pattern.len()];
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(p.expose(), "~0Aa".repeat(8));
    }

    #[test]
    fn too_many_exclusions_and_a_broken_source_are_refused() {
        let all: String = (b'!'..=b'~').map(char::from).skip(5).collect();
        assert_eq!(
            from_bytes(&all, |_| Ok(())).unwrap_err(),
            PasswordError::TooFewCharacters(5)
        );
        assert_eq!(
            from_bytes("", |_| Err(PasswordError::Random)).unwrap_err(),
            PasswordError::Random
        );
        // A source stuck on one byte never gives every kind, or any character.
        for stuck in [0u8, 255] {
            let e = from_bytes("", |buf| {
                buf.fill(stuck);
                Ok(())
            });
            assert_eq!(e.unwrap_err(), PasswordError::Random, "{stuck}");
        }
    }
}
