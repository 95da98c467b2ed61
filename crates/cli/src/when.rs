//! Times as the CLI reads and shows them: `--since 15m`, the RFC 3339
//! timestamps in the functions' log lines, and UTC for people.

/// Unix seconds and days, by Howard Hinnant's `civil_from_days`: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `secs` (Unix seconds) as its civil date and time of day (UTC):
/// (year, month, day, hours, minutes, seconds).
fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let (year, month, day) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2));
    let t = secs % 86_400;
    (year, month, day, t / 3600, t % 3600 / 60, t % 60)
}

/// `secs` (Unix seconds) as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_utc(secs: u64) -> String {
    let (year, month, day, h, m, s) = civil(secs);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} UTC")
}

/// `ms` (Unix milliseconds) as `MM-DD HH:MM:SS.mmm` (UTC): a log line's time.
pub(crate) fn format_log_time(ms: u64) -> String {
    let (_, month, day, h, m, s) = civil(ms / 1000);
    format!("{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{:03}", ms % 1000)
}

/// An RFC 3339 UTC timestamp (`2026-11-28T10:31:14.123456Z`, as the
/// functions' JSON logs write it) in Unix milliseconds; `None` for anything else.
pub(crate) fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let (date, time) = text.split_once('T')?;
    let time = time.strip_suffix('Z')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    if h > 23 || m > 59 || s > 60 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let millis = format!("{fraction:0<3}")[..3].parse::<u64>().ok()?;
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(((days * 86_400 + h * 3600 + m * 60 + s) * 1000) + millis)
}

/// A `--since` duration in seconds: a number and a unit, `s`, `m`, `h` or
/// `d` (`90s`, `15m`, `24h`, `7d`).
pub(crate) fn parse_since(text: &str) -> Result<u64, String> {
    let bad = || format!("--since {text:?} is not a duration: use a number and a unit, such as 90s, 15m, 24h or 7d");
    let text = text.trim();
    let split = text.char_indices().last().map(|(i, _)| i).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).filter(|&s| s > 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_rendering() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_795_680_000 + 3_661), "2026-11-26 09:01:01 UTC");
        assert_eq!(format_utc(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(format_log_time(1_795_680_000_000 + 3_661_042), "11-26 09:01:01.042");
    }

    #[test]
    fn rfc3339_timestamps_round_trip_with_the_renderer() {
        for secs in [0, 951_782_400, 1_795_680_000 + 3_661, 4_102_444_799] {
            let text = format_utc(secs).replace(' ', "T").replace("TUTC", "Z");
            assert_eq!(parse_rfc3339_ms(&text), Some(secs * 1000), "{text}");
        }
        assert_eq!(
            parse_rfc3339_ms("2026-11-26T09:01:01.042917Z"),
            Some((1_795_680_000 + 3_661) * 1000 + 42)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-26T09:01:01.5Z"),
            Some((1_795_680_000 + 3_661) * 1000 + 500)
        );
        for bad in [
            "",
            "2026-11-26",
            "2026-11-26T09:01:01",
            "2026-13-26T09:01:01Z",
            "2026-11-26T25:01:01Z",
            "2026-11-26T09:01:01.x1Z",
            "START RequestId",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_takes_a_number_and_a_unit_and_names_the_fix() {
        assert_eq!(parse_since("90s"), Ok(90));
        assert_eq!(parse_since("15m"), Ok(900));
        assert_eq!(parse_since("24h"), Ok(86_400));
        assert_eq!(parse_since("7d"), Ok(604_800));
        for bad in [
            "",
            "m",
            "15",
            "15 minutes",
            "-5m",
            "0m",
            "1.5h",
            "99999999999999999999d",
            "15µ",
        ] {
            let e = parse_since(bad).unwrap_err();
            assert!(e.contains("--since") && e.contains("15m"), "{bad}: {e}");
        }
    }
}
