//! The process-wide string order of selectors (its own test binary: it sets a global).

use std::cmp::Ordering;

use fullsync_engine::selector::set_default_string_order;
use fullsync_engine::Selector;
use serde_json::json;

/// Case-insensitive order, standing in for ICU (where "a" < "B").
fn caseless(a: &str, b: &str) -> Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

#[test]
fn default_string_order_applies_to_new_selectors() {
    let doc = json!({"s": "a"});
    let sel = json!({"s": {"$lt": "B"}});
    let before = Selector::new(sel.clone()).unwrap();
    assert!(!before.matches(&doc), "by code point, \"a\" > \"B\"");
    assert!(set_default_string_order(caseless));
    assert!(!set_default_string_order(caseless), "the first call wins");
    assert!(Selector::new(sel).unwrap().matches(&doc));
    assert!(
        !before.matches(&doc),
        "selectors made before keep their order"
    );
}
