//! Contact dedup, the batch queue and the spool journal.

use walkeros_destination_hubspot::delivery::dedup::Dedup;
use walkeros_destination_hubspot::delivery::queue::Queue;
use walkeros_destination_hubspot::hubspot::plan::ContactUpsert;
use walkeros_destination_hubspot::hubspot::plan::EventInput;
use wasm_bindgen_test::wasm_bindgen_test;

fn upsert(email: &str, name: &str) -> ContactUpsert {
    ContactUpsert {
        email: email.to_string(),
        properties: vec![("firstname".into(), name.to_string())],
        spool_ids: Vec::new(),
    }
}

#[wasm_bindgen_test]
fn each_contact_is_upserted_once_until_it_changes() {
    let mut dedup = Dedup::new(100);
    let (a, b) = (upsert("a@x.y", "A"), upsert("b@x.y", "B"));
    assert!(dedup.claim(&a));
    assert!(dedup.claim(&b));
    for _ in 0..3 {
        assert!(!dedup.claim(&a));
        assert!(!dedup.claim(&b));
    }
    assert!(
        !dedup.claim(&upsert("A@X.Y", "A")),
        "emails match without regard to case"
    );
    assert!(
        dedup.claim(&upsert("a@x.y", "Ann")),
        "a changed property is sent again"
    );
    assert!(!dedup.claim(&upsert("a@x.y", "Ann")));
    assert_eq!(dedup.len(), 2);
}

#[wasm_bindgen_test]
fn a_failed_upsert_is_retried() {
    let mut dedup = Dedup::new(100);
    let a = upsert("a@x.y", "A");
    assert!(dedup.claim(&a));
    dedup.forget(&a);
    assert!(dedup.claim(&a));
}

#[wasm_bindgen_test]
fn memory_is_bounded() {
    let mut dedup = Dedup::new(10);
    for i in 0..1000 {
        dedup.claim(&upsert(&format!("{i}@x.y"), "x"));
    }
    assert_eq!(dedup.len(), 10);
}

#[wasm_bindgen_test]
fn the_least_recently_seen_contact_is_forgotten_first() {
    let mut dedup = Dedup::new(2);
    let (a, b, c) = (
        upsert("a@x.y", "A"),
        upsert("b@x.y", "B"),
        upsert("c@x.y", "C"),
    );
    assert!(dedup.claim(&a));
    assert!(dedup.claim(&b));
    assert!(!dedup.claim(&a), "a is now the most recent");
    assert!(dedup.claim(&c), "c evicts b, the least recent");
    assert!(!dedup.claim(&a), "a was kept");
    assert!(dedup.claim(&b), "b was forgotten, so it is upserted again");
    assert_eq!(dedup.len(), 2);
}

#[wasm_bindgen_test]
fn interleaved_contacts_within_capacity_are_upserted_once() {
    let mut dedup = Dedup::new(100);
    let mut sent = 0;
    for round in 0..50 {
        for user in 0..100 {
            sent += usize::from(dedup.claim(&upsert(&format!("u{user}@x.y"), "same")));
        }
        assert_eq!(sent, 100, "round {round}");
    }
}

#[wasm_bindgen_test]
fn at_most_64_bytes_a_contact() {
    for n in [10_000, 100_000, 1_000_000] {
        let mut dedup = Dedup::new(n);
        for i in 0..n {
            dedup.claim(&upsert(&format!("user{i}@example.com"), "x"));
        }
        let per_entry = dedup.memory_bytes() as f64 / n as f64;
        assert!(per_entry <= 64.0, "{per_entry:.1} bytes a contact at {n}");
    }
}

#[wasm_bindgen_test]
fn queue_takes_oldest_first_and_restores_failures_in_front() {
    let input = |i: usize| EventInput {
        event_name: format!("pe1_e{i}"),
        email: None,
        object_id: None,
        utk: None,
        uuid: None,
        occurred_at: None,
        name: "x".into(),
        types: Vec::new(),
        properties: Vec::new(),
        spool_id: 0,
    };
    let names = |inputs: Vec<EventInput>| -> Vec<String> {
        inputs.into_iter().map(|i| i.event_name).collect()
    };
    let mut q = Queue::default();
    for i in 0..5 {
        q.push(input(i));
    }
    let first = q.take(2);
    assert_eq!(names(first.clone()), ["pe1_e0", "pe1_e1"]);
    q.restore(first);
    assert_eq!(
        names(q.take(10)),
        ["pe1_e0", "pe1_e1", "pe1_e2", "pe1_e3", "pe1_e4"]
    );
    assert!(q.is_empty());
}

#[wasm_bindgen_test]
fn the_limiter_never_exceeds_a_rolling_window() {
    use walkeros_destination_hubspot::delivery::limiter::{Limiter, RateHeaders};
    let mut limiter = Limiter::new(100, 10_000);
    limiter.observe(
        &RateHeaders {
            max: Some(20),
            remaining: Some(20),
            interval_ms: Some(2_000),
        },
        0.0,
    );
    // Take tokens as fast as allowed for 20 s; count per rolling 2 s window.
    let mut sent = Vec::new();
    let mut now = 0.0;
    while now < 20_000.0 {
        match limiter.take(now) {
            Ok(()) => sent.push(now),
            Err(wait) => now += f64::from(wait),
        }
    }
    for (i, start) in sent.iter().enumerate() {
        let in_window = sent[i..]
            .iter()
            .take_while(|t| **t < start + 2_000.0)
            .count();
        assert!(
            in_window <= 20,
            "{in_window} requests in the window from {start}"
        );
    }
    // And the sustained rate is near HubSpot's 20 per 2 s.
    assert!(sent.len() >= 150, "{} requests in 20 s", sent.len());
}

#[wasm_bindgen_test]
fn backoff_grows_with_full_jitter_and_honours_retry_after() {
    use walkeros_destination_hubspot::delivery::backoff::{Backoff, BASE_MS, MAX_MS};
    let mut backoff = Backoff::new(7);
    for failures in 0..20u32 {
        let ceiling = BASE_MS.saturating_mul(1 << failures.min(16)).min(MAX_MS);
        assert!(backoff.next_delay(None) <= ceiling);
    }
    assert!(backoff.next_delay(Some(90_000)) >= 90_000);
    backoff.reset();
    assert_eq!(backoff.failures(), 0);
    let delays: Vec<u32> = (0..50)
        .map(|_| {
            backoff.reset();
            backoff.next_delay(None)
        })
        .collect();
    assert!(delays.iter().any(|d| *d != delays[0]), "jittered");
}

#[wasm_bindgen_test]
fn the_spool_journal_replays_what_is_not_done_and_skips_a_cut_record() {
    use walkeros_destination_hubspot::delivery::spool::{Replayed, Spool};
    let input = |name: &str| EventInput {
        event_name: name.into(),
        email: Some("a@x.y".into()),
        object_id: None,
        utk: None,
        uuid: Some(format!("uuid-{name}")),
        occurred_at: None,
        properties: vec![("n".into(), "1".into())],
        ..EventInput::default()
    };
    let mut spool = Spool::new(1 << 20);
    let (mut a, mut b, mut c) = (input("pe1_a"), input("pe1_b"), input("pe1_c"));
    let mut journal = spool.record_event(&mut a) + &spool.record_event(&mut b);
    let mut contact = upsert("a@x.y", "Ann");
    journal += &spool.record_upsert(&mut contact);
    journal += &spool.done([a.spool_id]).expect("a was live");
    assert!(spool.done([a.spool_id]).is_none(), "done once");
    let last = spool.record_event(&mut c);
    assert_eq!(spool.live(), 3);

    // A restart: the journal with its last record cut in half.
    let mut notices = Vec::new();
    let mut again = Spool::new(1 << 20);
    again.read(&journal, false, &mut notices);
    again.read(&last[..last.len() / 2], true, &mut notices);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].message.contains("cut short"));
    let replayed = again.take_read();
    assert_eq!(replayed.len(), 2);
    let Replayed::Event(first) = &replayed[0] else {
        panic!("b first")
    };
    assert_eq!(
        (first.event_name.as_str(), first.spool_id),
        ("pe1_b", b.spool_id)
    );
    assert_eq!(first.properties, b.properties);
    let Replayed::Upsert(read) = &replayed[1] else {
        panic!("then the contact")
    };
    assert_eq!(
        (read.email.as_str(), &read.properties),
        ("a@x.y", &contact.properties)
    );
    // New records continue after every id the journal named.
    let mut d = input("pe1_d");
    again.record_event(&mut d);
    assert!(d.spool_id > b.spool_id && d.spool_id > contact.spool_ids[0]);
    // The rewritten journal is the live records only, and reads the same.
    let rewritten = again.rewrite();
    assert_eq!(rewritten.lines().count(), 3);
    assert!(!rewritten.contains("pe1_a") && !rewritten.contains("pe1_c"));
    // A line that is not a record is reported, never replayed.
    let mut notices = Vec::new();
    let mut third = Spool::new(1 << 20);
    third.read(
        "{\"event\":{\"id\":9,\"input\":{\"eventName\":\"x\",\"bogus\":1,\"properties\":{}}}}\n",
        false,
        &mut notices,
    );
    assert!(third.take_read().is_empty());
    assert!(notices[0].message.contains("line 1 could not be read"));
    // Ids are whole numbers from 1 that JavaScript can hold: others are not
    // records, and a done line naming one changes nothing.
    let mut notices = Vec::new();
    let mut fourth = Spool::new(1 << 20);
    fourth.read(
        concat!(
            "{\"upsert\":{\"id\":18446744073709551615,\"contact\":{\"email\":\"a@x.y\",\"properties\":{}}}}\n",
            "{\"upsert\":{\"id\":7.5,\"contact\":{\"email\":\"a@x.y\",\"properties\":{}}}}\n",
            "{\"done\":[0]}\n",
            "{\"upsert\":{\"contact\":{\"properties\":{\"b\":\"2\",\"a\":\"1\"},\"email\":\"a@x.y\"},\"id\":3}}\n",
        ),
        false,
        &mut notices,
    );
    assert_eq!(notices.len(), 3, "{notices:?}");
    let replayed = fourth.take_read();
    let [Replayed::Upsert(read)] = replayed.as_slice() else {
        panic!("the one record: {replayed:?}")
    };
    let order: Vec<&str> = read.properties.iter().map(|(k, _)| &**k).collect();
    assert_eq!(order, ["b", "a"], "properties keep their order");
    let mut e = input("pe1_e");
    fourth.record_event(&mut e);
    assert_eq!(e.spool_id, 4);
}

#[wasm_bindgen_test]
fn a_replayed_event_keeps_its_definition_name_and_property_types() {
    use walkeros_destination_hubspot::config::types::PropertyType;
    use walkeros_destination_hubspot::delivery::spool::{Replayed, Spool};
    // Not named yet: the prefix is still being learned from HubSpot.
    let mut unnamed = EventInput {
        name: "order_complete".into(),
        types: vec![PropertyType::Number],
        properties: vec![("revenue".into(), "42.5".into())],
        ..EventInput::default()
    };
    let mut spool = Spool::new(1 << 20);
    let journal = spool.record_event(&mut unnamed);
    // A record an earlier version wrote, without either.
    let older =
        "{\"event\":{\"id\":5,\"input\":{\"eventName\":\"pe1_page_view\",\"properties\":{}}}}\n";
    let mut notices = Vec::new();
    let mut again = Spool::new(1 << 20);
    again.read(&(journal + older), false, &mut notices);
    assert!(notices.is_empty(), "{notices:?}");
    let replayed = again.take_read();
    let [Replayed::Event(read), Replayed::Event(old)] = replayed.as_slice() else {
        panic!("both events: {replayed:?}")
    };
    assert_eq!(
        (read.event_name.as_str(), read.name.as_str(), &read.types),
        ("", "order_complete", &vec![PropertyType::Number])
    );
    assert_eq!((old.name.as_str(), old.types.len()), ("page_view", 0));
}

#[wasm_bindgen_test]
fn the_spool_is_compacted_once_half_of_it_is_done() {
    use walkeros_destination_hubspot::delivery::spool::Spool;
    let mut spool = Spool::new(1 << 30);
    let mut ids = Vec::new();
    let mut written = 0;
    for i in 0..2_000 {
        let mut e = EventInput {
            event_name: format!("pe1_e{i}"),
            email: Some("a@x.y".into()),
            object_id: None,
            utk: None,
            uuid: None,
            occurred_at: None,
            properties: vec![("pad".into(), "x".repeat(60))],
            ..EventInput::default()
        };
        written += spool.record_event(&mut e).len();
        ids.push(e.spool_id);
    }
    assert!(written > 128 * 1024);
    assert!(spool.compaction().is_none(), "nothing is done yet");
    spool.done(ids[..900].iter().copied());
    assert!(spool.compaction().is_none(), "less than half is done");
    spool.done(ids[900..1_200].iter().copied());
    let text = spool.compaction().expect("more than half is done");
    assert_eq!(text.lines().count(), 800);
    assert_eq!(text.len() as u64, spool.live_bytes());
    assert!(spool.compaction().is_none(), "the new journal is all live");
}

#[wasm_bindgen_test]
fn a_journal_under_64_kib_is_not_compacted_even_when_all_of_it_is_done() {
    use walkeros_destination_hubspot::delivery::spool::Spool;
    let mut spool = Spool::new(1 << 30);
    let mut ids = Vec::new();
    let mut written = 0;
    // Records of about 150 bytes: 400 of them stay under 64 KiB.
    for i in 0..400 {
        let mut e = EventInput {
            event_name: format!("pe1_e{i}"),
            email: Some("a@x.y".into()),
            properties: vec![("pad".into(), "x".repeat(60))],
            ..EventInput::default()
        };
        written += spool.record_event(&mut e).len();
        ids.push(e.spool_id);
    }
    assert!(written < 64 * 1024, "{written} bytes");
    spool.done(ids.iter().copied());
    assert!(spool.compaction().is_none(), "under 64 KiB, never");
}
