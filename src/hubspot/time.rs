//! ISO 8601 times from walkerOS's millisecond timestamps.

/// `2023-11-14T22:13:20.100Z` for a Unix time in milliseconds, or `None` for
/// a time JavaScript's Date cannot represent.
pub fn iso8601(ms: f64) -> Option<String> {
    // Date's range: ±8.64e15 ms around the epoch.
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return None;
    }
    let ms = ms.trunc() as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    // Signed six-digit years outside 0..=9999, as Date#toISOString writes
    // them.
    let (sign, width) = match year {
        0..=9999 => ("", 4),
        ..=-1 => ("-", 6),
        _ => ("+", 6),
    };
    let year = year.unsigned_abs();
    Some(format!(
        "{sign}{year:0width$}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z"
    ))
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
