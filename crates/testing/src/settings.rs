//! The environment a function's settings tests hand its parser.

use std::collections::HashMap;

/// A lookup that answers each name of `pairs` (name, value) with its value,
/// and any other name with nothing: the environment of a settings test.
pub fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    move |name| map.get(name).cloned()
}
