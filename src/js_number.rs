//! Numbers as JavaScript prints them (`String(n)`, Number::toString with
//! radix 10): HubSpot property values are strings, and a number must read
//! the same there as it does in the user's JavaScript.

/// Appends `String(n)` to `out`.
pub fn push(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("NaN");
    } else if n == 0.0 {
        out.push('0');
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
    } else if n.fract() == 0.0 && n.abs() < MAX_SAFE {
        push_integer(out, n as i64);
    } else if !push_few_digits(out, n) && !push_short_decimal(out, n) {
        push_shortest(out, n);
    }
}

/// `String(n)` as a new string.
pub fn to_string(n: f64) -> String {
    let mut out = String::with_capacity(24);
    push(&mut out, n);
    out
}

/// 2^53: integers below it are exact in an f64.
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

/// `push_short_decimal` in floating point, for the common case it is
/// cheaper: while `n * 10^d` stays below 2^53, dividing an integer by 10^d
/// rounds once, so it tells exactly whether that integer reads back as `n`.
/// The integers nearest the exact `n * 10^d` are within one of the rounded
/// product; where two of them read back, which one JavaScript takes needs
/// exact arithmetic, so false (as when no digit count fits).
fn push_few_digits(out: &mut String, n: f64) -> bool {
    let abs = n.abs();
    if !(1e-6..MAX_SAFE).contains(&abs) {
        return false;
    }
    let mut scale = 1.0;
    for digits in 1..=15u32 {
        scale *= 10.0;
        let scaled = abs * scale;
        if scaled >= MAX_SAFE {
            return false;
        }
        let m = scaled.round();
        let below = m - 1.0 > 0.0 && (m - 1.0) / scale == abs;
        let at = m > 0.0 && m / scale == abs;
        let above = (m + 1.0) / scale == abs;
        match (below, at, above) {
            (false, false, false) => continue,
            (true, false, false) => push_signed_fixed(out, n, m - 1.0, digits),
            (false, true, false) => push_signed_fixed(out, n, m, digits),
            (false, false, true) => push_signed_fixed(out, n, m + 1.0, digits),
            _ => return false,
        }
        return true;
    }
    false
}

fn push_signed_fixed(out: &mut String, n: f64, m: f64, digits: u32) {
    if n < 0.0 {
        out.push('-');
    }
    push_fixed(out, m as u64, digits);
}

/// Non-integers from 1e-6 up to 2^53, which JavaScript writes without an
/// exponent, worked out exactly in integers (Rust's float formatting costs
/// more than the rest of an event's properties together, and where two
/// shortest candidates are equally close it rounds half up, where
/// ECMAScript takes the even one): the fewest fraction digits `d` for which
/// an integer `m` makes `m / 10^d` read back as `n`, the closest such `m`,
/// and on a tie the even one. False for other numbers.
// Out of line, as `push_shortest`: rare, and `push` (inlined where every
// property is written) stays small for V8 to optimise.
#[cold]
#[inline(never)]
fn push_short_decimal(out: &mut String, n: f64) -> bool {
    let abs = n.abs();
    if !(1e-6..MAX_SAFE).contains(&abs) {
        return false;
    }
    // abs = mantissa * 2^-shift exactly; it is normal and not an integer,
    // so the shift is positive (at most 52 + 20 for 1e-6).
    let bits = abs.to_bits();
    let fraction = bits & ((1 << 52) - 1);
    let mantissa = u128::from(fraction | (1 << 52));
    let shift = 1075 - ((bits >> 52) & 0x7ff) as u32;
    let unit = 1u128 << shift;
    // The distance from abs to the next float below is half as much when
    // the mantissa is a power of two.
    let below_factor = if fraction == 0 { 4 } else { 2 };
    let mantissa_even = mantissa % 2 == 0;
    let mut product = mantissa;
    let mut ten = 1u128;
    // 22 digits take any f64 from 1e-6 back exactly (17 significant ones).
    for digits in 1..=22u32 {
        product *= 10;
        ten *= 10;
        // abs * 10^digits = (product / unit) exactly: `low` below it is
        // `rest / unit` away, `low + 1` above it `(unit - rest) / unit`.
        let low = product >> shift;
        let rest = product & (unit - 1);
        // A candidate reads back as abs when it is nearer than half the gap
        // to the next float (exactly half: round half to even, so when
        // abs's mantissa is even).
        let reads_back = |distance: u128, factor: u128| {
            let twice = distance * factor;
            twice < ten || (twice == ten && mantissa_even)
        };
        let low_ok = low > 0 && reads_back(rest, below_factor);
        let high_ok = rest > 0 && reads_back(unit - rest, 2);
        let m = match (low_ok, high_ok) {
            (false, false) => continue,
            (true, false) => low,
            (false, true) => low + 1,
            (true, true) => match rest.cmp(&(unit - rest)) {
                std::cmp::Ordering::Less => low,
                std::cmp::Ordering::Greater => low + 1,
                std::cmp::Ordering::Equal if low % 2 == 0 => low,
                std::cmp::Ordering::Equal => low + 1,
            },
        };
        if n < 0.0 {
            out.push('-');
        }
        // The fewest digits that do are at most 17 significant ones.
        push_fixed(out, m as u64, digits);
        return true;
    }
    false
}

/// `m / 10^digits` in plain decimal notation.
fn push_fixed(out: &mut String, m: u64, digits: u32) {
    let mut buf = [0u8; 48];
    let mut at = buf.len();
    let mut rest = m;
    let mut written = 0;
    while rest > 0 || written <= digits {
        if written == digits && digits > 0 {
            at -= 1;
            buf[at] = b'.';
        }
        if written >= digits && rest == 0 {
            at -= 1;
            buf[at] = b'0';
            break;
        }
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        written += 1;
    }
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

fn push_integer(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
}

/// Integers from 2^53 and numbers below 1e-6, from Rust's shortest
/// round-trip digits (the digits ECMAScript asks for; only the layout
/// differs). Rust rounds an exact tie between two shortest candidates half
/// up, which cannot happen for an integer and needs a number below 1e-6 with
/// an exact binary value halfway between two of them.
#[cold]
#[inline(never)]
fn push_shortest(out: &mut String, n: f64) {
    if (1e-6..1e21).contains(&n.abs()) {
        // Rust's `{}` lays these out as JavaScript does.
        out.push_str(&n.to_string());
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let point = exp.parse::<i32>().unwrap_or(0) + 1;
    if k <= point && point <= 21 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((point - k) as usize));
    } else if 0 < point && point <= 21 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-point) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = point - 1;
        out.push('e');
        if e >= 0 {
            out.push('+');
        }
        out.push_str(&e.to_string());
    }
}
