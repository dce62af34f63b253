//! walkerOS's consent check (`getGrantedConsent`): OR over the required keys.

use crate::mapping::value::{Object, Value};

/// True when `required` is empty, or when any required key is truthy in both
/// `required` and the `state`.
pub fn is_granted(required: &Object, state: Option<&Object>) -> bool {
    if required.is_empty() {
        return true;
    }
    let Some(state) = state else {
        return false;
    };
    state.iter().any(|(key, granted)| {
        granted.is_truthy()
            && crate::mapping::value::lookup(required, key).is_some_and(Value::is_truthy)
    })
}
