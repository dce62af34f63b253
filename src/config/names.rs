//! HubSpot names: the `pe{HubID}_` prefix, event names and property names.

pub const MAX_NAME_LEN: usize = 50;

/// `pe{HubID}_`, such as `pe12345678_`.
pub fn is_valid_prefix(prefix: &str) -> bool {
    prefix
        .strip_prefix("pe")
        .and_then(|rest| rest.strip_suffix('_'))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// `^[a-z][a-z0-9_]*$`, at most 50 characters: HubSpot's rule for event and
/// property internal names.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The name part HubSpot gets for a walkerOS event name: lowercased, with
/// each run of white space as one `_` ("order complete" → "order_complete").
/// Other characters HubSpot rejects also become `_`; the second value says
/// whether that happened, so the caller can warn.
pub fn event_name_part(event_name: &str) -> (String, bool) {
    let words: Vec<&str> = event_name.split_whitespace().collect();
    let lower: String = words
        .join("_")
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    (lower.replace(|c| !valid(c), "_"), !lower.chars().all(valid))
}

/// The name part for a walkerOS event name, normalised, and whether that
/// changed more than case and white space; `Err` with the attempt when no
/// valid name comes out (it must start with a letter).
#[inline(never)]
pub fn event_name(event_name: &str) -> Result<(String, bool), String> {
    let (mut part, mut changed) = event_name_part(event_name);
    if part.len() > MAX_NAME_LEN {
        part.truncate(MAX_NAME_LEN);
        changed = true;
    }
    if is_valid_name(&part) {
        Ok((part, changed))
    } else {
        Err(part)
    }
}

/// A property name HubSpot accepts, made from any key: lowercased, other
/// characters as `_`, `p_` before a leading digit or `_`, at most 50
/// characters. `None` for a key with nothing usable.
pub fn property_name(key: &str) -> Option<String> {
    let (mut name, _) = event_name_part(key);
    if name.is_empty() || name.bytes().all(|b| b == b'_') {
        return None;
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "p_");
    }
    name.truncate(MAX_NAME_LEN);
    Some(name)
}

/// The fully qualified name: the prefix plus the name part, unless the name
/// part already carries this prefix.
pub fn qualify(prefix: &str, name: &str) -> String {
    if name.starts_with(prefix) {
        name.to_string()
    } else {
        [prefix, name].concat()
    }
}
