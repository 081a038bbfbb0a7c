//! The store as the chain uses it: commit heights in order, read and scan the latest state,
//! prove values at old heights, find blocks and receipts, survive reopening.

use std::ops::Bound;

use bot_state::{BlockRecord, Changes, StateDb, StateError, StateProof};

fn changes(pairs: &[(&str, Option<&str>)]) -> Changes {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

fn record(height: u64) -> BlockRecord {
    BlockRecord {
        hash: [height as u8; 32],
        block: format!("block {height}").into_bytes(),
        certificate: format!("certificate {height}").into_bytes(),
        receipts: vec![
            ([100 + height as u8; 32], b"receipt a".to_vec()),
            ([200 + height as u8; 32], b"receipt b".to_vec()),
        ],
    }
}

fn commit(db: &StateDb, height: u64, pairs: &[(&str, Option<&str>)]) -> [u8; 32] {
    let prepared = db.prepare(height, changes(pairs)).unwrap();
    let root = prepared.root();
    db.commit(prepared, &record(height)).unwrap();
    root
}

fn open() -> (tempfile::TempDir, StateDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = StateDb::open(&dir.path().join("state.redb")).unwrap();
    (dir, db)
}

#[test]
fn committed_heights_survive_reopening_with_their_roots_blocks_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let (r0, r1) = {
        let db = StateDb::open(&path).unwrap();
        assert_eq!(db.height().unwrap(), None);
        let r0 = commit(&db, 0, &[("a", Some("1")), ("b", Some("2"))]);
        let r1 = commit(&db, 1, &[("a", Some("3")), ("b", None)]);
        (r0, r1)
    };
    let db = StateDb::open(&path).unwrap();
    assert_eq!(db.height().unwrap(), Some(1));
    assert_eq!(db.root(0).unwrap(), Some(r0));
    assert_eq!(db.root(1).unwrap(), Some(r1));
    assert_ne!(r0, r1);
    let snap = db.snapshot().unwrap();
    assert_eq!(snap.height(), Some(1));
    assert_eq!(snap.get(b"a").unwrap(), Some(b"3".to_vec()));
    assert_eq!(snap.get(b"b").unwrap(), None);
    assert_eq!(db.block(1).unwrap(), Some(b"block 1".to_vec()));
    assert_eq!(db.block_height(&[1; 32]).unwrap(), Some(1));
    assert_eq!(db.certificate(0).unwrap(), Some(b"certificate 0".to_vec()));
    assert_eq!(
        db.receipt(&[201; 32]).unwrap(),
        Some((1, 1, b"receipt b".to_vec()))
    );
    assert_eq!(db.receipts(0).unwrap().len(), 2);
    assert_eq!(db.receipt(&[7; 32]).unwrap(), None);
}

#[test]
fn values_at_old_heights_are_readable_and_provable_against_that_heights_root() {
    let (_dir, db) = open();
    let r0 = commit(
        &db,
        0,
        &[("sensor/1", Some("20C")), ("sensor/2", Some("21C"))],
    );
    let r1 = commit(&db, 1, &[("sensor/1", Some("25C")), ("sensor/2", None)]);
    let r2 = commit(&db, 2, &[]);
    assert_eq!(r1, r2, "a block that changes nothing keeps the root");

    assert_eq!(db.get_at(b"sensor/1", 0).unwrap(), Some(b"20C".to_vec()));
    assert_eq!(db.get_at(b"sensor/1", 2).unwrap(), Some(b"25C".to_vec()));
    assert_eq!(db.get_at(b"sensor/2", 1).unwrap(), None);

    let old = db.prove(b"sensor/1", 0).unwrap();
    assert_eq!(old.value, Some(b"20C".to_vec()));
    old.verify(&r0).unwrap();
    let gone = db.prove(b"sensor/2", 2).unwrap();
    assert_eq!(gone.value, None, "absence is proven too");
    gone.verify(&r2).unwrap();
    let never = db.prove(b"no such key", 1).unwrap();
    never.verify(&r1).unwrap();

    // Through bytes, as an off-chain verifier receives it.
    let received = StateProof::from_bytes(&old.to_bytes()).unwrap();
    received.verify(&r0).unwrap();
    let err = received.verify(&r1).unwrap_err();
    assert!(err.contains("not"), "{err}");
    assert!(StateProof::from_bytes(b"garbage").is_err());
}

#[test]
fn a_proof_with_a_changed_value_does_not_verify() {
    let (_dir, db) = open();
    let root = commit(&db, 0, &[("grant/alice", Some("read"))]);
    let proof = db.prove(b"grant/alice", 0).unwrap();
    let mut bytes = proof.to_bytes();
    // The value sits after height (8), key (4 + 11) and the option tag (1) and length (4).
    let at = 8 + 4 + 11 + 1 + 4;
    assert_eq!(&bytes[at..at + 4], b"read");
    bytes[at..at + 4].copy_from_slice(b"admn");
    let forged = StateProof::from_bytes(&bytes).unwrap();
    let err = forged.verify(&root).unwrap_err();
    assert!(err.contains("does not hold"), "{err}");
    assert!(
        db.prove(b"grant/alice", 5).is_err(),
        "height 5 is not committed"
    );
}

#[test]
fn the_root_depends_on_the_state_not_on_how_it_was_written() {
    let (_d1, one) = open();
    let (_d2, two) = open();
    commit(&one, 0, &[("x", Some("1")), ("y", Some("2"))]);
    let a = commit(&one, 1, &[("z", Some("3")), ("x", None)]);
    commit(&two, 0, &[("y", Some("2"))]);
    let b = commit(&two, 1, &[("z", Some("3"))]);
    assert_eq!(a, b);
}

#[test]
fn heights_commit_in_order_and_a_stale_preparation_is_refused() {
    let (_dir, db) = open();
    assert!(matches!(
        db.prepare(1, Changes::new()),
        Err(StateError::OutOfOrder {
            requested: 1,
            committed: None
        })
    ));
    let first = db.prepare(0, changes(&[("k", Some("first"))])).unwrap();
    let second = db.prepare(0, changes(&[("k", Some("second"))])).unwrap();
    db.commit(first, &record(0)).unwrap();
    let err = db.commit(second, &record(0)).unwrap_err();
    assert!(err.to_string().contains("in order"), "{err}");
    assert_eq!(
        db.snapshot().unwrap().get(b"k").unwrap(),
        Some(b"first".to_vec())
    );
    // Preparing without committing writes nothing.
    drop(db.prepare(1, changes(&[("k", Some("never"))])).unwrap());
    assert_eq!(db.height().unwrap(), Some(0));
    assert_eq!(
        db.snapshot().unwrap().get(b"k").unwrap(),
        Some(b"first".to_vec())
    );
}

#[test]
fn scans_walk_key_order_both_ways_within_bounds() {
    let (_dir, db) = open();
    commit(
        &db,
        0,
        &[
            ("a/1", Some("1")),
            ("a/2", Some("2")),
            ("a/3", Some("3")),
            ("b/1", Some("4")),
        ],
    );
    let snap = db.snapshot().unwrap();
    let keys = |entries: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<String> {
        entries
            .into_iter()
            .map(|(k, _)| String::from_utf8(k).unwrap())
            .collect()
    };
    let a = |b: &'static str| Bound::Included(b.as_bytes());
    let x = |b: &'static str| Bound::Excluded(b.as_bytes());
    assert_eq!(
        keys(snap.scan(a("a/"), x("a0"), false, 10).unwrap()),
        ["a/1", "a/2", "a/3"]
    );
    assert_eq!(
        keys(snap.scan(a("a/"), x("a0"), true, 2).unwrap()),
        ["a/3", "a/2"]
    );
    assert_eq!(
        keys(snap.scan(x("a/1"), Bound::Unbounded, false, 10).unwrap()),
        ["a/2", "a/3", "b/1"]
    );
    assert!(snap.scan(a("b"), x("a"), false, 10).unwrap().is_empty());
    assert!(snap.scan(x("a/1"), x("a/1"), false, 10).unwrap().is_empty());
    // A snapshot does not move when later heights commit.
    commit(&db, 1, &[("a/4", Some("5"))]);
    assert_eq!(snap.scan(a("a/"), x("a0"), false, 10).unwrap().len(), 3);
    assert_eq!(
        db.snapshot()
            .unwrap()
            .scan(a("a/"), x("a0"), false, 10)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn node_notes_are_kept_outside_the_state_root() {
    let (_dir, db) = open();
    let root = commit(&db, 0, &[("k", Some("v"))]);
    db.put_aux(b"proposal/1/0", b"bytes").unwrap();
    db.put_aux(b"proposal/1/1", b"more").unwrap();
    db.put_aux(b"other", b"kept").unwrap();
    assert_eq!(db.aux(b"proposal/1/0").unwrap(), Some(b"bytes".to_vec()));
    db.remove_aux_prefix(b"proposal/1/").unwrap();
    assert_eq!(db.aux(b"proposal/1/1").unwrap(), None);
    assert_eq!(db.aux(b"other").unwrap(), Some(b"kept".to_vec()));
    assert_eq!(db.root(0).unwrap(), Some(root));
}

#[test]
fn removing_a_key_that_was_never_set_changes_nothing() {
    let (_d1, one) = open();
    let (_d2, two) = open();
    let a = commit(&one, 0, &[("k", Some("v"))]);
    let b = commit(&two, 0, &[("k", Some("v")), ("never", None)]);
    assert_eq!(a, b);
    let c = commit(&two, 1, &[("also never", None)]);
    assert_eq!(b, c);
    two.prove(b"never", 1).unwrap().verify(&c).unwrap();
}
